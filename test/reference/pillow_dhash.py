#!/usr/bin/python3
"""Reference dhash exactly as imagehash computes it (Pillow convert("L"), LANCZOS to 9x8, right > left).
Usage: pillow_dhash.py FILE...  ->  one line per file: <16 hex>\t<wall ms>\t<cpu ms>\t<path>  (or ERROR\t<reason>\t-\t<path>).
Times are measured inside Python per image (open + decode + convert + resize), so interpreter start-up is excluded."""
import sys, time
import numpy
from PIL import Image

LANCZOS = getattr(Image, "Resampling", Image).LANCZOS

def dhash(path):
    image = Image.open(path)
    pixels = numpy.asarray(image.convert("L").resize((9, 8), LANCZOS))
    bits = "".join(str(b) for b in 1 * (pixels[:, 1:] > pixels[:, :-1]).flatten())
    return "{:0>16x}".format(int(bits, 2))

for path in sys.argv[1:]:
    started, started_cpu = time.perf_counter(), time.process_time()
    try:
        result = dhash(path)
    except Exception as error:  # report and continue: one bad file must not hide the others
        result = "ERROR\t%s: %s" % (type(error).__name__, str(error).replace("\t", " ").replace("\n", " "))
        print("%s\t-\t%s" % (result, path))
        continue
    wall_ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
    print("%s\t%.3f\t%.3f\t%s" % (result, wall_ms, cpu_ms, path))
