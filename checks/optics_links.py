"""The optics rules across ports and runs: span loss of every link in both directions against the budget
of its type and length, their asymmetry, and error counters rising between runs (with low Rx, a dirty
connector suspect)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from checks import optics_decode as dec
from checks.optics_rules import CHECK_NAME, CONNECTOR_DB, SPLICE_DB, STANDARD, OpticsParams, judge_value, levels_for
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity


def counter_metrics(iface: Mapping[str, Any], device: dec.Device) -> list[Metric]:
    out = [
        Metric(name=k, value=iface[k], unit="count") for k in ("in_errors", "fcs_errors") if iface.get(k) is not None
    ]
    if device.uptime is not None:
        out.append(Metric(name="sys_uptime", value=device.uptime, unit="ticks"))
    return out


def error_findings(
    name: str,
    port: str,
    target: str,
    iface: Mapping[str, Any],
    device: dec.Device,
    previous: Mapping[str, Any],
    params: OpticsParams,
    reading: dec.Reading,
    ev: tuple[Evidence, ...],
) -> Iterator[Finding]:
    before = previous.get(target) or {}
    if not before or device.uptime is None:
        return
    up_before = (before.get("sys_uptime") or {}).get("value")
    if up_before is not None and device.uptime < up_before:
        return  # the switch rebooted: counters restarted, no delta
    grown = {}
    for key in ("in_errors", "fcs_errors"):
        now, prev = iface.get(key), (before.get(key) or {}).get("value")
        if now is None or prev is None:
            continue
        delta = now - prev
        if delta < 0:
            if prev > 2**31:  # a Counter32 that wrapped
                delta = now + 2**32 - prev
            else:
                continue  # reset (cleared counters)
        if delta >= params.errors_warn:
            grown[key] = int(delta)
    if not grown:
        return
    since = (before.get("in_errors") or before.get("fcs_errors") or {}).get("at")
    rx = reading.values.get("rx")
    low_rx = (
        rx is not None
        and rx.value is not None
        and (judge_value(rx.value, levels_for("rx", rx, params, params.default_type)[0]) is not None)
    )
    yield Finding(
        check=CHECK_NAME,
        code="IF_ERRORS_RISING",
        severity=Severity.CRIT if low_rx else Severity.WARN,
        target=target,
        summary=", ".join(f"{k.replace('_', ' ')} +{v}" for k, v in grown.items())
        + (f" since {str(since)[:16]}" if since else "")
        + (
            f" with low Rx ({rx.value:g} dBm): dirty connector suspect"
            if low_rx and rx and rx.value is not None
            else ""
        ),
        evidence=ev,
        remediation="Errors with low receive power: clean both connectors and re-seat; errors with good power: "
        "check the optic, the port, duplex/speed.",
        subjects={"switch": name, "port": f"{name}:{port}"},
    )


def link_findings(
    decoded: Mapping[str, dec.Device], data: Mapping[str, Any], params: OpticsParams
) -> Iterator[Finding]:
    """Span loss in both directions for links paired by LLDP (or ``[[links]]``)."""
    names = {(d.sysname or n): n for n, d in decoded.items()} | {n: n for n in decoded}
    configured = {tuple(sorted((lk["a"], lk["b"]))): lk for lk in data.get("links", [])}
    pairs: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for n, d in decoded.items():
        for port, nb in d.neighbours.items():
            far = names.get(nb["system"]) or names.get(nb["system"].split(".")[0])
            if far is not None:
                key = tuple(sorted((f"{n}:{port}", f"{far}:{nb['port']}")))
                pairs[key] = configured.get(key)  # type: ignore[index]
    for key, lk in configured.items():
        pairs.setdefault(key, lk)  # type: ignore[arg-type]
    for (a, b), lk in sorted(pairs.items()):
        yield from _span(a, b, lk, decoded, params)


def _power(decoded: Mapping[str, dec.Device], end: str, kind: str) -> float | None:
    sw, _, port = end.partition(":")
    d = decoded.get(sw)
    if d is None:
        return None
    vals = [r.values[kind].value for r in d.readings if r.port == port and r.lane is None and kind in r.values]
    return vals[0] if vals and vals[0] is not None else None


def expected_loss(lk: Mapping[str, Any] | None, params: OpticsParams) -> tuple[float, str]:
    if lk and lk.get("length_km") is not None:
        loss = lk["length_km"] * lk["fiber_db_per_km"] + lk["connectors"] * CONNECTOR_DB + lk["splices"] * SPLICE_DB
        return round(
            loss, 2
        ), f"{lk['length_km']:g} km × {lk['fiber_db_per_km']:g} dB/km + {lk['connectors']} connectors"
    otype = str((lk or {}).get("type") or params.default_type).upper()
    std = STANDARD.get(otype, STANDARD["10GBASE-LR"])
    return std["loss"], f"the {otype} channel insertion loss"


def _span(
    a: str, b: str, lk: Mapping[str, Any] | None, decoded: Mapping[str, dec.Device], params: OpticsParams
) -> Iterator[Finding]:
    loss, names = {}, {}
    for near, far, metric in ((b, a, "loss_a_to_b"), (a, b, "loss_b_to_a")):  # light from far to near
        tx, rx = _power(decoded, far, "tx"), _power(decoded, near, "rx")
        if tx is not None and rx is not None:
            loss[f"{far} → {near}"] = round(tx - rx, 2)
            names[f"{far} → {near}"] = metric
    if not loss:
        return
    expected, why = expected_loss(lk, params)
    target = f"{a} ↔ {b}"
    metrics = tuple(
        Metric(
            name=names[d],
            value=v,
            unit="dB",
            warn=expected,
            crit=expected + params.loss_crit_margin_db,
            direction="upper",
        )
        for d, v in loss.items()
    )
    ev = (
        Evidence(
            kind=EvidenceKind.METRIC,
            source="Tx far − Rx near",
            data={"loss_db": loss, "expected_db": expected, "expected_from": why, "link": dict(lk) if lk else None},
        ),
    )
    worst_dir, worst = max(loss.items(), key=lambda kv: kv[1])
    if worst > expected:
        sev = Severity.CRIT if worst > expected + params.loss_crit_margin_db else Severity.WARN
        yield Finding(
            check=CHECK_NAME,
            code="LINK_LOSS_HIGH",
            severity=sev,
            target=target,
            summary=f"span loss {worst:g} dB {worst_dir}, expected ≤ {expected:g} dB ({why})",
            evidence=ev,
            metrics=metrics,
            remediation="Clean and inspect every connector on the path (patch panels too), look for "
            "tight bends; a loss that grows over days is a dirty connector.",
        )
    if len(loss) == 2:
        (d1, l1), (d2, l2) = loss.items()
        if abs(l1 - l2) > params.asymmetry_db:
            bad = d1 if l1 > l2 else d2
            yield Finding(
                check=CHECK_NAME,
                code="LINK_LOSS_ASYMMETRIC",
                severity=Severity.WARN,
                target=target,
                summary=f"{bad} loses {abs(l1 - l2):g} dB more than the other direction "
                f"({d1} {l1:g} dB, {d2} {l2:g} dB)",
                evidence=ev,
                metrics=metrics,
                remediation="One connector or one optic is at fault, not the fibre: clean the "
                f"receiving end of {bad.split(' → ')[1]} and the sending end first.",
            )
