// The report's inline stylesheet (kept apart so the renderer reads as structure).
// A `\` at the end of a line continues it: the stylesheet's text is exactly as if the line were not broken.
export const REPORT_CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{padding:16px 24px;background:#fff;border-bottom:4px solid #888}
header.outcome-all-clear{border-color:#2e9d57}\
header.outcome-superseded{border-color:#6a6fb5}\
header.outcome-rolled-back,header.outcome-rollback-blocked{border-color:#d0342c}
h1{margin:0 0 8px;font-size:20px}\
.badge{font-size:13px;padding:2px 8px;border-radius:10px;background:#888;color:#fff;vertical-align:middle}
.outcome-all-clear .badge{background:#2e9d57}\
.outcome-superseded .badge{background:#6a6fb5}\
.outcome-rolled-back .badge,.outcome-rollback-blocked .badge{background:#d0342c}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}\
dt{font-weight:600;color:#555}dd{margin:0;font-family:ui-monospace,monospace;font-size:13px}
.legend{color:#555;font-size:12px;margin:10px 0 0}\
.key{display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 3px 0 8px}
.key.pass{background:#2e9d57}.key.warn{background:#e0a100}.key.bad{background:#d0342c}.key.nodata{background:#9aa0a6}
main{padding:12px 24px}\
.gate{background:#fff;margin:0 0 12px;padding:8px;border-radius:6px;box-shadow:0 1px 2px #0002;width:max-content}
.gate-facts{margin:2px 0 0 56px;color:#555;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#555}svg .chart-title{font-weight:600;fill:#1d2330;font-size:12px}
.grid{stroke:#e6e8eb}.poll-tick{stroke:#9aa0a6}.series{fill:none;stroke:#3367d6;stroke-width:2}
.threshold{stroke:#d0342c;stroke-width:1.5;stroke-dasharray:6 4}svg .threshold-label{fill:#d0342c}
.point.pass{fill:#2e9d57}.point.warn{fill:#e0a100}.point.bad{fill:#d0342c}.point.nodata{fill:#fff;stroke:#9aa0a6}
.health.pass{fill:#2e9d57}.health.bad{fill:#d0342c}
.violation-marker{stroke:#d0342c;stroke-width:2}svg .violation-label{fill:#d0342c;font-weight:600}
.warning-marker{stroke:#e0a100;stroke-dasharray:2 2}svg .warning-label{fill:#b07f00}
.recovered-marker{stroke:#2e9d57;stroke-width:1.5}svg .recovered-label{fill:#2e9d57}
.rollback-band{fill:#d0342c;opacity:.12}
.events table{border-collapse:collapse;background:#fff;font-size:12px}\
.events td,.events th{padding:3px 8px;border-bottom:1px solid #e6e8eb;text-align:left}
tr.violated td{color:#d0342c;font-weight:600}tr.warning td{color:#b07f00}tr.action td{color:#3367d6}.empty{color:#555}
`;
