/** Names that break naive escaping in line protocol, InfluxQL, SQL, JSON or URLs. */
export const HOSTILE_NAMES = [
  'plain',
  'with space',
  'comma,separated',
  'equals=sign',
  'double"quote',
  "single'quote",
  'back\\slash',
  'trailing\\',
  'new\nline',
  'tab\tchar',
  'ünïcødé 日本語 🎉',
  "'; DROP TABLE region_daily; --",
  '" OR 1=1 --',
  '/regex/ =~ /.*/',
  'SELECT * FROM "page_view"',
  '$1 %s {{x}}',
];
