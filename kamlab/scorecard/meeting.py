"""The customer meeting pack: one page per customer to take *into the meeting with the customer*
(quarterly business review, VOC meeting, forecast review), in the customer's language.

It shows what a supplier shares with its customer — delivery performance against the SLA with
the lines behind it, their forecast's accuracy and bias by lag beside ours, open orders and
backlog, open complaints and the actions agreed, NPI project dates, agreements ending next
quarter, phase-out materials with their last delivery and the stock we hold, and the vendor
rating trend — and nothing internal: no margin, cost, credit limit or exposure, expected loss
or payment risk, priority, money at stake, competitor, share of business or internal note.

That holds by construction: the page reads the month's analytics only through
:func:`shared`, which returns the columns of :data:`ALLOWED` and refuses any other frame. A
field added to the analytics never reaches the customer unless it is added here.
"""

from __future__ import annotations

import html

import pandas as pd

from kamlab.chain.steps import PackAnalytics
from kamlab.i18n.language import Language

__all__ = ["ALLOWED", "MeetingError", "meeting_page", "shared"]

# frame of PackAnalytics -> the only columns the meeting pack may read from it
ALLOWED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "name", "otif_target", "language"),
    "materials": ("material_id", "description"),
    "service": ("customer_id", "period", "lines_due", "lines_otif", "otif"),
    "meeting_lines": ("customer_id", "order_id", "line", "material_id", "due_date", "quantity",
                      "delivered_quantity", "days_late", "on_time", "in_full"),
    "accuracy": ("customer_id", "source", "lag", "metric", "pooling", "value", "n_points"),
    "open_orders": ("customer_id", "order_id", "line", "material_id", "requested_date",
                    "confirmed_date", "open_quantity"),
    "open_complaints": ("customer_id", "complaint_id", "material_id", "opened_date", "category",
                        "rejected_quantity"),
    "actions": ("customer_id", "action_id", "topic", "owner", "opened", "due", "closed"),
    "npi": ("customer_id", "opportunity_id", "material_id", "product_family", "stage",
            "planned_sop_date", "sop_date"),
    "expiring_prices": ("customer_id", "material_id", "source", "valid_to", "price",
                        "price_unit", "currency"),
    "customer_phase_out": ("customer_id", "material_id", "end_of_life", "usable"),
    "ratings": ("customer_id", "period", "score", "scale_max"),
}  # fmt: skip

ROWS = 12  # rows a list shows; the rest is counted ("and 7 more")


class MeetingError(KeyError):
    """A frame or column outside :data:`ALLOWED` was asked for."""


def shared(analytics: PackAnalytics, name: str, customer_id: str) -> pd.DataFrame | None:
    """The customer's rows of frame `name`, only its allowed columns; None when the frame is
    not available. Raises :class:`MeetingError` for a frame not on the allow-list."""
    if name not in ALLOWED:
        raise MeetingError(f"the meeting pack may not read {name!r}: not on the allow-list")
    frame = getattr(analytics, name, None)
    if frame is None:
        return None
    columns = [c for c in ALLOWED[name] if c in frame.columns]
    if "customer_id" in frame.columns:
        frame = frame.loc[frame["customer_id"].astype(str).to_numpy() == customer_id]
    return frame[columns].reset_index(drop=True)


def _esc(text: object) -> str:
    return html.escape(str(text))


def _table(
    heads: list[str], rows: list[list[str]], lang: Language, *, total: int | None = None
) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in r) + "</tr>" for r in rows)
    more = ""
    if total is not None and total > len(rows):
        more = f'<p class="more">{_esc(lang.text("and {n} more", n=lang.count(total - len(rows))))}</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _section(title: str, body: str) -> str:
    return f"<section><h2>{_esc(title)}</h2>{body}</section>"


def _note(text: str) -> str:
    return f"<p>{_esc(text)}</p>"


def _none(lang: Language, message: str) -> str:
    return f'<p class="none">{_esc(lang.text(message))}</p>'


def _description(analytics: PackAnalytics, lang: Language) -> dict[str, str]:
    m = shared(analytics, "materials", "")
    if m is None or "description" not in m.columns:
        return {}
    return dict(zip(m["material_id"].astype(str), m["description"].astype(str), strict=True))


def _material(mid: object, names: dict[str, str]) -> str:
    mid = str(mid)
    return f"{mid} {names[mid]}" if mid in names and names[mid] not in ("", "nan") else mid


def _delivery(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("Delivery performance")
    months = shared(a, "service", c)
    if months is None or months.empty:
        return _section(title, _none(lang, "No order lines were due in these months."))
    n = a.settings.scorecard.otif_months
    window = months.loc[months["period"] > a.month - n]
    due, done = window["lines_due"].sum(), window["lines_otif"].sum()
    target = (
        shared(a, "customers", c)["otif_target"].iloc[0] if len(shared(a, "customers", c)) else None
    )
    values = {"done": lang.count(done), "due": lang.count(due), "n": lang.count(n),
              "otif": lang.percent(done / due if due else None)}  # fmt: skip
    sentence = lang.text(
        "Last {n} months: {done} of {due} order lines on time and in full ({otif}).", **values
    )
    if target is not None and not pd.isna(target):
        sentence += " " + lang.text("Agreed in the SLA: {target}.", target=lang.percent(target))
    rows = [
        [
            lang.month(r.period),
            lang.count(r.lines_due),
            lang.count(r.lines_otif),
            lang.percent(r.otif),
        ]
        for r in months.sort_values("period").itertuples()
    ]
    heads = [lang.text("Month"), lang.text("Lines due"), lang.text("On time and in full"),
             lang.text("OTIF")]  # fmt: skip
    body = _note(sentence) + _table(heads, rows, lang)
    lines = shared(a, "meeting_lines", c)
    if lines is not None and len(lines):
        lines = lines.sort_values("due_date", kind="stable")
        shown = [
            [f"{r.order_id}/{r.line}", _material(r.material_id, names), lang.date(r.due_date),
             lang.count(r.quantity), lang.count(r.delivered_quantity),
             lang.text("late {days}", days=lang.days(r.days_late)) if not r.on_time
             else lang.text("short")]
            for r in lines.head(ROWS).itertuples()
        ]  # fmt: skip
        heads = [lang.text("Order/line"), lang.text("Material"), lang.text("Due"),
                 lang.text("Ordered"), lang.text("Delivered"), lang.text("Why")]  # fmt: skip
        body += f"<h3>{_esc(lang.text('The lines behind it'))}</h3>" + _table(
            heads, shown, lang, total=len(lines)
        )
    return _section(title, body)


def _forecast(a: PackAnalytics, c: str, lang: Language) -> str:
    title = lang.text("Your forecast: accuracy and bias by lag")
    acc = shared(a, "accuracy", c)
    if acc is None or acc.empty:
        return _section(title, _none(lang, "No forecast snapshots to score yet."))
    acc = acc.loc[acc["pooling"].eq("volume") & acc["metric"].isin(["accuracy", "bias"])]
    wide = acc.pivot_table(
        index="lag", columns=["source", "metric"], values="value", aggfunc="first"
    )
    if ("customer", "accuracy") not in wide.columns:
        return _section(title, _none(lang, "No forecast snapshots to score yet."))

    def cell(lag: int, source: str, metric: str, signed: bool = False) -> str:
        value = wide[(source, metric)].get(lag) if (source, metric) in wide.columns else None
        return lang.percent(value, signed=signed)

    rows = [
        [lang.text("{lag} months ahead", lag=lang.count(lag)) if lag != 1 else lang.text("1 month ahead"),
         cell(lag, "customer", "accuracy"), cell(lag, "customer", "bias", True),
         cell(lag, "statistical", "accuracy"), cell(lag, "statistical", "bias", True)]
        for lag in sorted(wide.index)
    ]  # fmt: skip
    heads = [lang.text("Horizon"), lang.text("Your accuracy"), lang.text("Your bias"),
             lang.text("Our accuracy"), lang.text("Our bias")]  # fmt: skip
    note = _note(lang.text(
        "Accuracy = 1 − WAPE over all materials (volume-weighted); bias = (forecast − orders) / "
        "orders, positive = forecast above orders."
    ))  # fmt: skip
    return _section(title, _table(heads, rows, lang) + note)


def _orders(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("Open orders")
    o = shared(a, "open_orders", c)
    if o is None or o.empty:
        return _section(title, _none(lang, "No open order lines."))
    o = o.sort_values("requested_date", kind="stable")
    overdue = int((o["requested_date"] <= a.as_of).sum())
    body = _note(lang.text(
        "{lines} open order lines, {quantity} pieces; {overdue} of them were requested by {day}.",
        lines=lang.count(len(o)), quantity=lang.count(o["open_quantity"].sum()),
        overdue=lang.count(overdue), day=lang.date(a.as_of),
    ))  # fmt: skip
    rows = [
        [f"{r.order_id}/{r.line}", _material(r.material_id, names), lang.date(r.requested_date),
         lang.date(r.confirmed_date), lang.count(r.open_quantity)]
        for r in o.head(ROWS).itertuples()
    ]  # fmt: skip
    heads = [lang.text("Order/line"), lang.text("Material"), lang.text("Requested"),
             lang.text("Confirmed"), lang.text("Open quantity")]  # fmt: skip
    return _section(title, body + _table(heads, rows, lang, total=len(o)))


def _quality(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("Open complaints and agreed actions")
    body = ""
    if "complaints" in a.missing_tables:
        body += _none(lang, "Complaints: no complaint data.")
    else:
        comp = shared(a, "open_complaints", c)
        if comp is None or comp.empty:
            body += _none(lang, "No open complaints.")
        else:
            rows = [
                [str(r.complaint_id), _material(r.material_id, names), lang.date(r.opened_date),
                 str(r.category), lang.count(r.rejected_quantity)]
                for r in comp.sort_values("opened_date").head(ROWS).itertuples()
            ]  # fmt: skip
            heads = [lang.text("Complaint"), lang.text("Material"), lang.text("Opened"),
                     lang.text("Category"), lang.text("Rejected quantity")]  # fmt: skip
            body += _table(heads, rows, lang, total=len(comp))
    act = shared(a, "actions", c)
    if act is None or "actions" in a.missing_tables:
        body += _none(lang, "Actions: no action data.")
    else:
        act = act.loc[act["closed"].isna() | (act["closed"] > a.as_of)].sort_values("due")
        if act.empty:
            body += _none(lang, "No open actions.")
        else:
            rows = [
                [str(r.topic), str(r.owner), lang.date(r.opened), lang.date(r.due),
                 lang.text("overdue") if r.due < a.as_of else lang.text("open")]
                for r in act.head(ROWS).itertuples()
            ]  # fmt: skip
            heads = [lang.text("Action"), lang.text("Owner"), lang.text("Agreed"),
                     lang.text("Due"), lang.text("Status")]  # fmt: skip
            body += f"<h3>{_esc(lang.text('Agreed actions'))}</h3>" + _table(
                heads, rows, lang, total=len(act)
            )
    return _section(title, body)


def _npi(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("New products")
    p = shared(a, "npi", c)
    if p is None or p.empty:
        return _section(title, _none(lang, "No new-product projects under way."))
    rows = [
        [str(r.opportunity_id),
         _material(r.material_id, names) if not pd.isna(r.material_id) else str(r.product_family),
         str(r.stage), lang.date(r.planned_sop_date), lang.date(r.sop_date)]
        for r in p.sort_values("sop_date").head(ROWS).itertuples()
    ]  # fmt: skip
    heads = [lang.text("Project"), lang.text("Product"), lang.text("Stage"),
             lang.text("Start of production, planned"), lang.text("expected")]  # fmt: skip
    return _section(title, _table(heads, rows, lang, total=len(p)))


def _agreements(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("Agreements ending in the next three months")
    p = shared(a, "expiring_prices", c)
    if p is None or p.empty:
        return _section(title, _none(lang, "No agreement ends in the next three months."))
    kinds = {
        "special_price": lang.text("special price"),
        "contract": lang.text("contract"),
        "price_list": lang.text("price list"),
    }
    rows = [
        [_material(r.material_id, names), kinds.get(str(r.source), str(r.source)),
         lang.text("{price} per {unit}", price=lang.money(r.price, r.currency, digits=2),
                   unit=lang.count(r.price_unit)),
         lang.date(r.valid_to)]
        for r in p.sort_values("valid_to").head(ROWS).itertuples()
    ]  # fmt: skip
    heads = [lang.text("Material"), lang.text("Agreement"), lang.text("Price"),
             lang.text("Valid until")]  # fmt: skip
    return _section(title, _table(heads, rows, lang, total=len(p)))


def _phase_out(a: PackAnalytics, c: str, lang: Language, names: dict[str, str]) -> str:
    title = lang.text("Materials being phased out")
    p = shared(a, "customer_phase_out", c)
    if p is None or p.empty:
        return _section(title, _none(lang, "None of your materials is being phased out."))
    p = p.groupby("material_id", as_index=False).agg(
        end_of_life=("end_of_life", "max"), usable=("usable", "sum")
    ) if "usable" in p.columns else p  # fmt: skip
    rows = [
        [_material(r.material_id, names), lang.date(r.end_of_life),
         lang.count(getattr(r, "usable", None))]
        for r in p.sort_values("end_of_life").head(ROWS).itertuples()
    ]  # fmt: skip
    heads = [lang.text("Material"), lang.text("Last delivery (last-time buy by)"),
             lang.text("Stock we hold")]  # fmt: skip
    return _section(title, _table(heads, rows, lang, total=len(p)))


def _rating(a: PackAnalytics, c: str, lang: Language) -> str:
    title = lang.text("Your rating of us")
    r = shared(a, "ratings", c)
    if r is None or r.empty:
        return _section(title, _none(lang, "No vendor rating received."))
    r = r.sort_values("period").tail(8)
    rows = [[lang.month(x.period), lang.text("{score} of {max}", score=lang.number(x.score, digits=1),
                                             max=lang.number(x.scale_max))]
            for x in r.itertuples()]  # fmt: skip
    return _section(title, _table([lang.text("Period"), lang.text("Score")], rows, lang))


_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #1d2733;
       max-width: 190mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 5mm 0 2mm;
  border-bottom: 1px solid #9aa7b4; } h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0; }
th, td { text-align: left; padding: 1mm 2mm; border-bottom: 1px solid #dde3e9; }
th { background: #eef2f6; } tr { break-inside: avoid; }
section { break-inside: avoid-page; } h2, h3 { break-after: avoid; }
.none, .more { color: #5b6875; font-style: italic; } .sub { color: #5b6875; }
"""


def meeting_page(analytics: PackAnalytics, customer_id: str, lang: Language) -> str:
    """The customer's meeting page as one offline HTML document in `lang`."""
    customers = shared(analytics, "customers", customer_id)
    if customers is None or customers.empty:
        raise MeetingError(f"customer {customer_id!r} is not in the data")
    name = str(customers["name"].iloc[0])
    names = _description(analytics, lang)
    sections = [
        _delivery(analytics, customer_id, lang, names),
        _forecast(analytics, customer_id, lang),
        _orders(analytics, customer_id, lang, names),
        _quality(analytics, customer_id, lang, names),
        _npi(analytics, customer_id, lang, names),
        _agreements(analytics, customer_id, lang, names),
        _phase_out(analytics, customer_id, lang, names),
        _rating(analytics, customer_id, lang),
    ]
    heading = lang.text("Account review with {customer}", customer=name)
    sub = lang.text("{month} · figures up to {day}", month=lang.month(analytics.month),
                    day=lang.date(analytics.as_of))  # fmt: skip
    return (
        f'<!DOCTYPE html><html lang="{lang.code}"><head><meta charset="utf-8">'
        f"<title>{_esc(heading)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{_esc(heading)}</h1><p class="sub">{_esc(sub)}</p>'
        + "".join(sections)
        + "</body></html>"
    )
