"""
The status page, rendered: a `Snapshot` of the shared state in, one HTML page out (pure functions).

The page shows each source's health, new articles and the duplicate rate of
the last hour per minute (inline SVG bar charts, the figures as text too),
and dead letters grouped by reason.  No script and no build step: the CSS is
inline, the charts are SVG.  `worker.app.status_server` reads the snapshot
from the state store and serves the page on 127.0.0.1 (`python -m worker status`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from worker.app.svgchart import Bar, bar_chart
from worker.state import DeadLetter

# Minutes charted, the last one being the current minute.
MINUTES = 60
NEWEST_PER_REASON = 3


@dataclass(frozen=True)
class SourceRow:
    """One source as the page lists it; times are epoch seconds."""

    name: str
    url: str
    kind: str
    last_status: int | None = None
    last_error: str | None = None
    last_polled: float | None = None
    last_new: float | None = None
    next_at: float | None = None
    errors: int = 0
    disabled: str | None = None

    @property
    def health(self) -> str:
        """Return a word for the source's state: disabled, failing, waiting, not modified, read or ok."""
        if self.disabled:
            return "disabled"
        if self.errors:
            return "failing"
        if self.last_polled is None:
            return "waiting"
        if self.kind == "archive":
            return "read"
        return "not modified" if self.last_status == 304 else "ok"

    @property
    def severity(self) -> int:
        """Return how bad the source's state is (higher is worse): the page lists the worst first."""
        return {"disabled": 3, "failing": 2, "waiting": 1}.get(self.health, 0)


@dataclass(frozen=True)
class DeadGroup:
    """The dead letters of one reason: how many, and the newest few."""

    reason: str
    count: int
    stages: tuple[str, ...]
    newest: tuple[DeadLetter, ...]


@dataclass(frozen=True)
class Snapshot:
    """Everything the page shows, read at `now` (epoch seconds)."""

    now: float
    mode: str
    first_minute: int
    new: tuple[int, ...]
    duplicate: tuple[int, ...]
    sources: tuple[SourceRow, ...]
    sources_total: int
    health_counts: dict[str, int]
    dead: tuple[DeadGroup, ...]
    dead_total: int
    dead_capped: bool = False


def source_row(url: str, state: dict[str, Any], next_at: float | None) -> SourceRow:
    """Return the row of one source from its stored state and due time (pure)."""
    spec = state.get("spec") or {}
    polled = state.get("last_polled")
    return SourceRow(
        name=str(spec.get("name") or url),
        url=url,
        kind=str(spec.get("kind") or "feed"),
        last_status=state.get("last_status") if polled is not None else None,
        last_error=state.get("last_error"),
        last_polled=float(polled) if polled is not None else None,
        next_at=None if state.get("disabled") else next_at,
        errors=int(state.get("errors") or 0),
        disabled=state.get("disabled"),
    )


def worst_first(rows: Sequence[SourceRow]) -> list[SourceRow]:
    """Return the rows ordered worst first: disabled, failing (most errors first), waiting, then by name."""
    return sorted(rows, key=lambda r: (-r.severity, -r.errors, r.name.casefold(), r.url))


def group_dead(letters: Sequence[DeadLetter], newest: int = NEWEST_PER_REASON) -> tuple[DeadGroup, ...]:
    """Return the letters grouped by reason, the biggest group first, each with its newest `newest`."""
    by_reason: dict[str, list[DeadLetter]] = {}
    for d in letters:
        by_reason.setdefault(d.reason, []).append(d)
    groups = [
        DeadGroup(
            reason=reason,
            count=len(ds),
            stages=tuple(sorted({d.stage for d in ds})),
            newest=tuple(sorted(ds, key=lambda d: (d.at, d.id), reverse=True)[:newest]),
        )
        for reason, ds in by_reason.items()
    ]
    return tuple(sorted(groups, key=lambda g: (-g.count, g.reason)))


# -- rendering ---------------------------------------------------------------------------------


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minute_label(minute: int) -> str:
    """Return a minute (epoch seconds // 60) as `HH:MM`, in UTC."""
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%H:%M")


def relative(ts: float, now: float) -> str:
    """Return how far `ts` is from `now` in words: `just now`, `4 min ago`, `in 2 h`, `3 days ago`."""
    delta = ts - now
    span = abs(delta)
    if span < 60:
        return "just now" if delta <= 0 else "in under a minute"
    if span < 3600:
        words = f"{int(span // 60)} min"
    elif span < 2 * 86400:
        words = f"{int(span // 3600)} h"
    else:
        words = f"{int(span // 86400)} days"
    return f"{words} ago" if delta < 0 else f"in {words}"


def _time(ts: float | None, now: float, none: str = "—") -> str:
    if ts is None:
        return f'<span class="none">{html.escape(none)}</span>'
    iso = _iso(ts)
    return f'<time datetime="{iso}" title="{iso}">{html.escape(relative(ts, now))}</time>'


def _e(value: object) -> str:
    return html.escape(str(value))


def plural(n: int, word: str) -> str:
    """Return `n` and the word, with an s unless `n` is 1: `1 duplicate`, `3 reasons`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def rate(duplicates: int, new: int) -> float | None:
    """Return the share of duplicates among processed articles in percent, None when there were none."""
    total = duplicates + new
    return None if total == 0 else 100.0 * duplicates / total


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def render(snap: Snapshot) -> str:
    """Return the whole page for a snapshot (pure: the same snapshot gives the same bytes)."""
    body = "".join(
        [
            _header(snap),
            _summary(snap),
            _throughput(snap),
            _sources(snap),
            _dead(snap),
        ]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>News ingest status</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def _header(snap: Snapshot) -> str:
    return (
        "<header><h1>News ingest status</h1>"
        f'<p class="meta">State store: {_e(snap.mode or "?")} · as of '
        f'<time datetime="{_iso(snap.now)}">{_iso(snap.now).replace("T", " ").replace("Z", " UTC")}</time>'
        ' · <a href="/">reload</a></p></header>'
    )


def _summary(snap: Snapshot) -> str:
    new, dup = sum(snap.new), sum(snap.duplicate)
    c = snap.health_counts
    troubles = ", ".join(f"{c[k]} {k}" for k in ("failing", "disabled", "waiting") if c.get(k)) or "all ok"
    dead = f"{snap.dead_total}+" if snap.dead_capped else str(snap.dead_total)
    cards = [
        ("sources", "Sources", str(snap.sources_total), troubles),
        ("new", "New articles, last hour", str(new), f"{snap.new[-1]} this minute" if snap.new else ""),
        ("duplicates", "Duplicate rate, last hour", _pct(rate(dup, new)), f"{dup} of {dup + new} articles"),
        ("dead", "Dead letters", dead, plural(len(snap.dead), "reason")),
    ]
    items = "".join(
        f'<div class="card" id="card-{key}"><dt>{_e(label)}</dt><dd class="figure">{_e(value)}</dd>'
        f'<dd class="sub">{_e(sub)}</dd></div>'
        for key, label, value, sub in cards
    )
    return f'<section aria-label="Summary"><dl class="cards">{items}</dl></section>'


def _throughput(snap: Snapshot) -> str:
    labels = [minute_label(snap.first_minute + i) for i in range(len(snap.new))]
    rates = [rate(d, n) for d, n in zip(snap.duplicate, snap.new, strict=True)]
    return (
        '<section id="throughput"><h2>Last hour, per minute (UTC)</h2><div class="charts">'
        f"{_new_chart(snap, labels)}{_duplicate_chart(snap, labels, rates)}</div>"
        f"{_minutes_table(snap, labels, rates)}</section>"
    )


def _new_chart(snap: Snapshot, labels: Sequence[str]) -> str:
    bars = [Bar(float(n), lab, f"{lab} UTC: {n} new") for n, lab in zip(snap.new, labels, strict=True)]
    peak = max(range(len(snap.new)), key=lambda i: (snap.new[i], i), default=None)
    peak_text = (
        f", at most {snap.new[peak]} in a minute ({labels[peak]} UTC)"
        if peak is not None and snap.new[peak]
        else ""
    )
    chart = bar_chart(
        bars, chart_id="chart-new", title="New articles per minute", empty_text="no new articles"
    )
    caption = f"New articles: {sum(snap.new)} in the last hour{peak_text}."
    return f'<figure>{chart}<figcaption id="caption-new">{caption}</figcaption></figure>'


def _duplicate_chart(snap: Snapshot, labels: Sequence[str], rates: Sequence[float | None]) -> str:
    bars = [
        Bar(r, lab, f"{lab} UTC: {d} of {d + n} duplicates ({_pct(r)})")
        for r, d, n, lab in zip(rates, snap.duplicate, snap.new, labels, strict=True)
    ]
    chart = bar_chart(
        bars,
        chart_id="chart-duplicates",
        title="Duplicate rate per minute",
        unit="%",
        top=100.0,
        empty_text="no articles processed",
    )
    new, dup = sum(snap.new), sum(snap.duplicate)
    caption = (
        f"Duplicate rate: {plural(dup, 'duplicate')} of {plural(dup + new, 'processed article')} "
        f"({_pct(rate(dup, new))})."
    )
    return f'<figure>{chart}<figcaption id="caption-duplicates">{caption}</figcaption></figure>'


def _minutes_table(snap: Snapshot, labels: Sequence[str], rates: Sequence[float | None]) -> str:
    # The newest minute first: the one a person opening the list looks for.
    rows = "".join(
        f"<tr><th scope=row>{lab}</th><td>{n}</td><td>{d}</td><td>{_pct(r)}</td></tr>"
        for lab, n, d, r in reversed(list(zip(labels, snap.new, snap.duplicate, rates, strict=True)))
    )
    head = "".join(f"<th scope=col>{h}</th>" for h in ("Minute (UTC)", "New", "Duplicates", "Duplicate rate"))
    return (
        f'<details id="minutes"><summary>The {len(labels)} minutes as figures, newest first</summary>'
        f'<div class="scroll"><table class="figures"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
        "</table></div></details>"
    )


def _status_cell(row: SourceRow) -> str:
    health = row.health
    code = f' <span class="code">HTTP {_e(row.last_status)}</span>' if row.last_status is not None else ""
    error = f'<div class="error">{_e(row.last_error)}</div>' if row.errors and row.last_error else ""
    return f'<span class="badge {health.replace(" ", "-")}">{_e(health)}</span>{code}{error}'


def _sources(snap: Snapshot) -> str:
    if not snap.sources_total:
        return (
            '<section id="sources-section"><h2>Sources</h2><p class="none">No sources yet: '
            "add some with <code>python -m worker sources add URL</code> or in schedules/.</p></section>"
        )
    shown = len(snap.sources)
    hidden = max(0, snap.sources_total - shown)
    caption = (
        f"All {snap.sources_total} sources, worst first."
        if not hidden
        else f"The {shown} worst of {snap.sources_total} sources: disabled, then failing, then by next check."
    )
    are = "source is" if hidden == 1 else "sources are"
    more = (
        f'<p id="sources-hidden" class="none">{hidden:,} more {are} not shown '
        "(<code>python -m worker sources list</code> lists every one; "
        "<code>status --rows N</code> shows more).</p>"
        if hidden
        else ""
    )
    rows = "".join(
        f'<tr class="{r.health.replace(" ", "-")}"><th scope=row>{_e(r.name)}'
        f'<div class="kind">{_e(r.kind)}</div></th>'
        f'<td class="url">{_e(r.url)}</td><td>{_status_cell(r)}</td>'
        f"<td>{_time(r.last_polled, snap.now, 'never')}</td>"
        f"<td>{_time(r.last_new, snap.now, 'none in 30 days')}</td>"
        f"<td>{_time(r.next_at, snap.now, 'not scheduled')}</td>"
        f'<td class="num">{r.errors}</td><td>{_e(r.disabled or "")}</td></tr>'
        for r in snap.sources
    )
    return (
        f'<section id="sources-section"><h2>Sources</h2><table id="sources"><caption>{caption}</caption>'
        "<thead><tr><th scope=col>Source</th><th scope=col>URL</th><th scope=col>Last status</th>"
        "<th scope=col>Last polled</th><th scope=col>Last new article</th><th scope=col>Next check</th>"
        "<th scope=col>Consecutive errors</th><th scope=col>Disabled because</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more}</section>"
    )


def _dead(snap: Snapshot) -> str:
    if not snap.dead:
        return (
            '<section id="dead-section"><h2>Dead letters</h2><p class="none">No dead letters.</p></section>'
        )
    rows = []
    for g in snap.dead:
        newest = "".join(
            f"<li>{_time(_parse_iso(d.at), snap.now)} · {_e(d.stage)} · {_e(d.source or '?')}"
            f"{' · ' + _e(d.payload['url']) if isinstance(d.payload.get('url'), str) else ''}</li>"
            for d in g.newest
        )
        rows.append(
            f'<tr><th scope=row class="reason">{_e(g.reason)}</th><td class="num">{g.count}</td>'
            f'<td>{_e(", ".join(g.stages))}</td><td><ul class="newest">{newest}</ul></td></tr>'
        )
    capped = f" (only the oldest {snap.dead_total} read)" if snap.dead_capped else ""
    return (
        '<section id="dead-section"><h2>Dead letters</h2><table id="dead"><caption>'
        f"{plural(snap.dead_total, 'dead letter')}, grouped by reason{capped}; retry them with "
        "<code>python -m worker dead retry</code>.</caption>"
        "<thead><tr><th scope=col>Reason</th><th scope=col>Count</th><th scope=col>Stages</th>"
        f"<th scope=col>Newest</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _parse_iso(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


CSS = """
:root{--fg:#1a202c;--muted:#5a6478;--line:#d9dee7;--bg:#f7f8fa;--ok:#276749;--bad:#c53030;--warn:#b7791f;
--off:#4a5568;--wait:#2b6cb0}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:1rem 1.5rem 3rem;font:15px/1.45 system-ui,sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:1.5rem;margin:.5rem 0 0}h2{font-size:1.15rem;margin:2rem 0 .6rem}
.meta,.none,.kind,.sub,caption{color:var(--muted)}
.meta{margin:.2rem 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:.8rem;margin:0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem}
.card dt{font-size:.85rem;color:var(--muted)}.card dd{margin:0}
.figure{font-size:1.7rem;font-weight:600}.sub{font-size:.85rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem}
figcaption{font-size:.9rem;margin-top:.3rem}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:var(--line);stroke-width:1}.chart .axis,.chart .empty{font-size:11px;fill:var(--muted)}
.chart .empty{font-size:13px}
#chart-new .bar{fill:#2b6cb0}#chart-duplicates .bar{fill:#c05621}
details{margin-top:.8rem}summary{cursor:pointer;color:var(--wait)}
.scroll{max-height:20rem;overflow-y:auto;display:inline-block;border:1px solid var(--line)}
.scroll thead th{position:sticky;top:0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
caption{text-align:left;padding:.3rem 0;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid var(--line)}
thead th{background:#eef1f5;font-size:.85rem}
.figures{width:auto;font-variant-numeric:tabular-nums}.figures td{text-align:right}
.num{text-align:right;font-variant-numeric:tabular-nums}
.url{word-break:break-all;font-size:.85rem;max-width:22rem}
.kind{font-size:.75rem;font-weight:normal}
.error{color:var(--bad);font-size:.85rem;margin-top:.15rem;word-break:break-word}
.code{font-size:.85rem;color:var(--muted)}
.badge{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;font-weight:600;color:#fff;
background:var(--ok)}
.badge.not-modified,.badge.read{background:#38a169}.badge.failing{background:var(--bad)}
.badge.disabled{background:var(--off)}.badge.waiting{background:var(--wait)}
tr.failing th,tr.disabled th{border-left:4px solid var(--bad)}
.reason{font-family:ui-monospace,monospace;font-size:.85rem;font-weight:normal;word-break:break-word}
.newest{margin:0;padding-left:1rem;font-size:.85rem}
code{font-size:.85rem}
"""
