// The schema objects of PostgreSQL's current schema with a definition each, so a dry run can tell what changed.
import type pg from 'pg';

/**
 * Tables, views, sequences, indexes, triggers and functions keyed "table library_entries", "index …", like SQLite's
 * sqlite_master rows. A table's definition lists its columns and constraints, so ALTER TABLE shows as `altered`.
 * Objects PostgreSQL makes internally for another (an identity's sequence, a primary key's index) are left out, as
 * SQLite's sqlite_autoindex_* and sqlite_sequence are.
 */
const SCHEMA_OBJECTS_SQL = `
SELECT CASE c.relkind WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view'
         ELSE 'table' END || ' ' || c.relname AS key,
       CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid)
            WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
            WHEN c.relkind = 'S' THEN ''
            ELSE (SELECT coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                      || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                      || CASE WHEN a.attidentity <> '' THEN ' IDENTITY' ELSE '' END
                      || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum), '')
                  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
              || coalesce((SELECT '; ' || string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
                  FROM pg_constraint k WHERE k.conrelid = c.oid), '')
       END AS definition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'i', 'S', 'v', 'm')
  AND NOT (c.relkind = 'i' AND EXISTS (SELECT 1 FROM pg_depend dep
             WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
               AND dep.refclassid = 'pg_constraint'::regclass AND dep.deptype = 'i'))
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend dep
             WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
               AND dep.refclassid = 'pg_class'::regclass AND dep.refobjsubid > 0 AND dep.deptype IN ('i', 'a')))
UNION ALL
SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.proname, pg_get_functiondef(p.oid)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = current_schema() AND p.prokind = 'f'`;

export async function readPostgresSchemaObjects(client: pg.Client): Promise<Map<string, string>> {
  const result = await client.query<{ key: string; definition: string | null }>(SCHEMA_OBJECTS_SQL);
  return new Map(result.rows.map((row) => [row.key, row.definition ?? '']));
}
