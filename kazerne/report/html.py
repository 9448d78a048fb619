"""A self-contained HTML report (``report.html``): one file that opens offline.

Nothing is fetched from a network: no CDN, no tile server, no web font. Maps are embedded as
PNG data URIs at full resolution (click a map to see it at print size, scroll to pan); the only
JavaScript is the small script below (table sorting and map zoom), shipped with kazerne and
inlined. Functions take plain values (strings, numbers, lists of dicts, PNG bytes) and return
HTML text.
"""

from __future__ import annotations

import base64
import html
import math

esc = html.escape

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:0;color:#1e1e1e;background:#fafafa;line-height:1.4}
header{background:#7a1212;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:26px} header p{margin:2px 0;opacity:.92}
main{max-width:1320px;margin:0 auto;padding:8px 28px 40px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:18px 0;padding:14px 20px}
h2{font-size:19px;margin:4px 0 12px;color:#7a1212}
h3{font-size:15px;margin:14px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px;background:#fcfcfc}
.card .v{font-size:24px;font-weight:bold;color:#1e1e1e}.card .l{font-size:13px;color:#444}
.card .n{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f0f0f0;position:sticky;top:0}
td.t,th.t{text-align:left;white-space:normal}
table.sortable th{cursor:pointer} table.sortable th:after{content:" \\2195";color:#aaa;font-size:11px}
th.asc:after{content:" \\2191"!important;color:#333!important} th.desc:after{content:" \\2193"!important;color:#333!important}
tr.zone td{font-weight:bold;background:#fafaf0}
.tablewrap{overflow-x:auto}
figure.map{margin:8px 0;border:1px solid #ccc;overflow:auto;max-height:92vh;background:#fff}
figure.map img{display:block;width:100%;height:auto;cursor:zoom-in}
figure.map.full img{width:auto;max-width:none;cursor:zoom-out}
figcaption{font-size:13px;color:#444;padding:6px 10px;border-top:1px solid #eee}
ul.assume li{margin:3px 0}
.warn{color:#8a4b00}
.small{font-size:12px;color:#555}
.recommendation{font-size:17px;font-weight:700;margin:4px 0 12px}
footer{font-size:12px;color:#555;max-width:1320px;margin:0 auto;padding:0 28px 30px}
"""

#: The report's only script: sortable tables (click a header) and map zoom (click a map).
SCRIPT = """
(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent.trim();
    var n=parseFloat(v);return (v!==''&&!isNaN(n)&&isFinite(v))?n:v.toLowerCase();}
  document.querySelectorAll('table.sortable').forEach(function(tb){
    var ths=tb.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths,function(th,i){th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc');
      Array.prototype.forEach.call(ths,function(h){h.classList.remove('asc','desc');});
      th.classList.add(asc?'asc':'desc');
      var body=tb.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
      var fixed=rows.filter(function(r){return r.classList.contains('zone');});
      rows=rows.filter(function(r){return !r.classList.contains('zone');});
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        if(typeof x!==typeof y){x=String(x);y=String(y);}
        return (x<y?-1:x>y?1:0)*(asc?1:-1);});
      fixed.concat(rows).forEach(function(r){body.appendChild(r);});
    });});
  });
  document.querySelectorAll('figure.map img').forEach(function(img){
    img.addEventListener('click',function(){img.parentNode.classList.toggle('full');});
  });
})();
"""


def fmt_pct(v, digits=1) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * float(v):.{digits}f} %"


def fmt_int(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):,.0f}"


def fmt_num(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "" if v is None or math.isnan(v) else "∞"
    return f"{float(v):.{digits}f}"


def fmt_signed_int(v) -> str:
    return "" if v is None else f"{float(v):+,.0f}"


def fmt_signed_pct(v, digits=1) -> str:
    if v is None:
        return ""
    t = f"{100 * float(v):+.{digits}f}"
    return f"{t.lstrip('+-') if float(t) == 0 else t} pp"


def section(title: str, body: str, id: str | None = None) -> str:
    return f"<section{f' id={chr(34)}{esc(id)}{chr(34)}' if id else ''}><h2>{esc(title)}</h2>{body}</section>"


def cards(items) -> str:
    """Headline numbers: items of (value text, label, note)."""
    out = ['<div class="cards">']
    for v, label, note in items:
        out.append(
            f'<div class="card"><div class="v">{esc(str(v))}</div><div class="l">{esc(label)}</div>'
            f"{f'<div class=n>{esc(note)}</div>' if note else ''}</div>"
        )
    out.append("</div>")
    return "".join(out)


def table(
    rows: list, columns: list, id: str | None = None, sortable: bool = True, zone_first: bool = False, caption: str = ""
) -> str:
    """An HTML table. ``columns``: (key, header, formatter or None); text columns (formatter None)
    align left. Each cell carries its raw number in ``data-sort`` so sorting is numeric. With
    ``zone_first`` the first row is the zone total and stays on top when sorting."""
    cls = "sortable" if sortable else ""
    out = [f'<div class="tablewrap"><table class="{cls}"{f" id={chr(34)}{esc(id)}{chr(34)}" if id else ""}>']
    if caption:
        out.append(f"<caption class=small>{esc(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f'<th class="{"t" if f is None else ""}">{esc(h)}</th>' for _, h, f in columns)
        + "</tr></thead><tbody>"
    )
    for k, r in enumerate(rows):
        tr = ' class="zone"' if zone_first and k == 0 else ""
        cells = []
        for key, _, f in columns:
            v = r.get(key)
            if f is None:
                cells.append(f'<td class="t">{esc("" if v is None else str(v))}</td>')
            elif v is None or isinstance(v, str):
                cells.append(f'<td data-sort="">{esc("" if v is None else v)}</td>')
            else:
                raw = (
                    ""
                    if v is None or (isinstance(v, float) and math.isnan(v))
                    else ("1e300" if isinstance(v, float) and math.isinf(v) else repr(float(v)))
                )
                cells.append(f'<td data-sort="{raw}">{esc(f(v))}</td>')
        out.append(f"<tr{tr}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def figure(png: bytes, caption: str, id: str, pdf_name: str | None = None, alt: str = "") -> str:
    """A full-resolution PNG embedded as a data URI; click to view at print size."""
    b64 = base64.b64encode(png).decode("ascii")
    pdf = f" Print version: <code>{esc(pdf_name)}</code> (beside this file)." if pdf_name else ""
    return (
        f'<figure class="map" id="{esc(id)}"><img alt="{esc(alt or caption)}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{esc(caption)} Click the map to see it at full resolution.{pdf}</figcaption></figure>"
    )


def bullets(items, cls: str = "assume") -> str:
    return f'<ul class="{cls}">' + "".join(f"<li>{esc(str(i))}</li>" for i in items) + "</ul>"


def paragraph(text: str, cls: str = "") -> str:
    return f"<p{f' class={chr(34)}{cls}{chr(34)}' if cls else ''}>{esc(text)}</p>"


def page(title: str, subtitle_lines: list, sections: list, footer: str = "") -> str:
    """The whole document: a header, the sections (HTML strings), a footer; CSS and script inline.
    A Content-Security-Policy forbids every network load, so even a stray reference cannot leak."""
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    sub = "".join(f"<p>{esc(s)}</p>" for s in subtitle_lines if s)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>{sub}</header><main>{''.join(sections)}</main>"
        f"<footer>{esc(footer)}</footer><script>{SCRIPT}</script></body></html>\n"
    )
