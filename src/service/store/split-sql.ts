// Splits a migration's SQL into single statements (quotes, comments and trigger bodies respected) for the dry run.

/**
 * better-sqlite3 prepares one statement at a time, and the dry run reports each statement's effect,
 * so it needs the boundaries SQLite itself would see. Handles '..', "..", `..`, [..], -- and /* *\/
 * comments, and CREATE TRIGGER ... BEGIN ... END bodies (whose inner `;` do not end the statement).
 * For PostgreSQL, $tag$..$tag$ bodies (functions, DO blocks) are quoted too, and [..] is an array, not a name.
 */
export function splitSqlStatements(sql: string, options: { dialect?: 'sqlite' | 'postgres' } = {}): string[] {
  const isPostgres = options.dialect === 'postgres';
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  let depth = 0; // BEGIN...END nesting inside a CREATE TRIGGER
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (stripComments(text).trim()) statements.push(text);
    start = end + 1;
  };
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipQuoted(sql, i, ch);
    } else if (isPostgres && ch === '$' && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))![0];
      const close = sql.indexOf(tag, i + tag.length);
      i = close === -1 ? sql.length : close + tag.length;
    } else if (ch === '[' && !isPostgres) {
      const close = sql.indexOf(']', i + 1);
      i = close === -1 ? sql.length : close + 1;
    } else if (ch === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
    } else if (ch === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? sql.length : close + 2;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j])) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (isTriggerStatement(sql.slice(start, i)) || depth > 0) {
        // CASE ... END also closes with END, so it must nest too.
        if (word === 'BEGIN' || word === 'CASE') depth++;
        else if (word === 'END' && depth > 0) depth--;
      }
      i = j;
    } else if (ch === ';' && depth === 0) {
      push(i);
      i++;
    } else {
      i++;
    }
  }
  push(sql.length);
  return statements;
}

/** PostgreSQL's dollar quote opener: `$$` or `$tag$` (a tag never starts with a digit, unlike a `$1` parameter). */
const DOLLAR_TAG = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote)
        j += 2; // doubled quote is an escaped quote
      else return j + 1;
    } else j++;
  }
  return sql.length;
}

function isTriggerStatement(prefix: string): boolean {
  return /^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(stripComments(prefix));
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** One line, at most `maxChars`, for reports: "CREATE TABLE library_entries ( id INTEGER…". */
export function abbreviateSql(statement: string, maxChars = 80): string {
  const flat = stripComments(statement).replace(/\s+/g, ' ').trim();
  return flat.length <= maxChars ? flat : `${flat.slice(0, maxChars - 1)}…`;
}
