"""The report's stylesheet: light and dark through ``prefers-color-scheme``, shared with the UI page."""

from __future__ import annotations

from typing import Final

REPORT_CSS: Final = """
:root{--bg:#ffffff;--fg:#1f2328;--muted:#656d76;--border:#d0d7de;--panel:#f6f8fa;
--prod:#1f6feb;--shadow:#d4640b;--grid:#e6e8eb;--warmup:rgba(130,80,223,.12);--lag:rgba(101,109,118,.16);
--look:#8250df;--decided:#cf222e;--promote:#1a7f37;--reject:#cf222e;--inconclusive:#9a6700;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--border:#30363d;
--panel:#161b22;--prod:#58a6ff;--shadow:#ffa657;--grid:#21262d;--warmup:rgba(163,113,247,.18);
--lag:rgba(139,148,158,.2);--look:#a371f7;--decided:#ff7b72;--promote:#3fb950;--reject:#ff7b72;
--inconclusive:#d29922}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1600px;padding:16px 24px;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px;border-bottom:1px solid var(--border)}
a{color:var(--prod)}.muted,.note,.unit{color:var(--muted)}.note{font-size:12px;margin:2px 0 0}
header{display:flex;gap:16px;align-items:center;flex-wrap:wrap}
.decision{display:inline-block;font-weight:700;padding:2px 10px;border-radius:12px;
border:2px solid currentColor;margin:0}
.decision-promote{color:var(--promote)}.decision-reject{color:var(--reject)}
.decision-inconclusive{color:var(--inconclusive)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:var(--muted)}dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--border);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel)}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.result-fail td.result,tr.result-reject td.result{color:var(--reject);font-weight:700}
tr.result-pass td.result,tr.result-promote td.result{color:var(--promote)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
figure.chart{margin:0;padding:8px;border:1px solid var(--border);border-radius:6px;background:var(--panel)}
figcaption{font-weight:600}svg{display:block;width:100%;height:auto}
svg text.axis{fill:var(--muted);font-size:11px}svg .grid{stroke:var(--grid);stroke-width:1}
svg .line{fill:none;stroke-width:1.4;stroke-linejoin:round;stroke-linecap:round}
svg .production{stroke:var(--prod)}svg .shadow{stroke:var(--shadow)}
svg .s-average{stroke-width:2.2}svg .s-p90{stroke-dasharray:6 3}svg .s-p99{stroke-dasharray:2 3}
svg .s-p50{stroke-opacity:.75}
.band.warmup,.swatch.warmup{fill:var(--warmup);background:var(--warmup)}
.band.lag,.swatch.lag{fill:var(--lag);background:var(--lag)}
svg .marker{stroke-width:1.5}svg .marker.look{stroke:var(--look);stroke-dasharray:3 3}
svg .marker.decided{stroke:var(--decided);stroke-width:2}
.tick.look{border-left:2px dashed var(--look)}.tick.decided{border-left:2px solid var(--decided)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;margin-top:4px}
.key{display:inline-flex;align-items:center;gap:5px}.key svg{width:22px;height:8px}
.swatch{display:inline-block;width:14px;height:10px;border:1px solid var(--border)}
.tick{display:inline-block;width:2px;height:12px}
"""
