{
  "targets": [
    {
      "target_name": "dhash_native",
      "sources": ["src/addon.c", "src/jpeg-rows.c", "src/png-rows.c", "src/inflate.c", "src/inflate-tables.c", "src/scratch-pool.c", "src/resample.c", "src/luma.c", "src/hash-probe.c"],
      "libraries": ["-ljpeg", "-lz", "-ldl", "-lpthread"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
