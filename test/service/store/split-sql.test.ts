import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abbreviateSql, splitSqlStatements } from '../../../src/service/store/split-sql.js';

test('splits on semicolons outside quotes, identifiers and comments', () => {
  const sql = `-- leading comment; not a statement
INSERT INTO t VALUES ('a;b', "c;d", \`e;f\`, [g;h]); /* x; y */
INSERT INTO t VALUES ('it''s');
;`;
  assert.deepEqual(splitSqlStatements(sql), [
    `-- leading comment; not a statement\nINSERT INTO t VALUES ('a;b', "c;d", \`e;f\`, [g;h])`,
    "/* x; y */\nINSERT INTO t VALUES ('it''s')",
  ]);
});

test('keeps a trigger body with CASE ... END in one statement', () => {
  const sql = `CREATE TRIGGER tr AFTER INSERT ON t BEGIN
  UPDATE t SET a = CASE WHEN 1 THEN 2 END;
  DELETE FROM u;
END;
SELECT 1`;
  const parts = splitSqlStatements(sql);
  assert.equal(parts.length, 2);
  assert.ok(parts[0].endsWith('END'));
  assert.equal(parts[1], 'SELECT 1');
});

test('abbreviates to one line of at most the given length', () => {
  assert.equal(abbreviateSql('CREATE TABLE a (\n  x INTEGER -- note\n)'), 'CREATE TABLE a ( x INTEGER )');
  assert.equal(abbreviateSql('SELECT 123456789', 10), 'SELECT 12…');
});
