"""The poller against a real SNMP agent (net-snmp snmpd started by the test): expected rates,
64- and 32-bit wraps, a device restart and a counter reset give no spike, ifName resolution,
and the monthly 95th percentile of a known series."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from traffic.models import SwitchPort, TrafficSlot
from traffic.selectors import month_p95, percentile95, traffic_graph
from traffic.services import poll_due, ports_claim, switchport_save

from .snmpagent import COMMUNITY

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 9, 0, 7, tzinfo=TZ)
MBIT_5MIN = 37_500_000  # octets in 300 s at 1 Mbit/s


def _port(agent, engineer, interface: str = "Gi0/1") -> SwitchPort:
    service = f.ServiceFactory(kind="colocation")
    return switchport_save(service=service, actor=engineer, now=T0 - timedelta(minutes=1), data={
        "device_address": "127.0.0.1", "snmp_port": agent.port, "interface": interface,
        "snmp_version": "v2c", "community": COMMUNITY, "port_number": "1/0/1"})


def _poll(port: SwitchPort, now: datetime) -> SwitchPort:
    SwitchPort.objects.filter(pk=port.pk).update(next_due_at=now)  # due now (the test controls time)
    totals = poll_due(now=now)
    assert totals.get("claimed") == 1, totals
    port.refresh_from_db()
    return port


@pytest.mark.django_db
def test_rates_from_advancing_64bit_counters_and_ifname_resolution(agent, engineer):
    agent.set_counters({7: {"name": "Gi0/1", "hc_in": 1_000_000, "hc_out": 5_000_000}})
    port = _poll(_port(agent, engineer), T0)
    assert port.if_index == 7 and port.counter_bits == 64
    assert port.last_sample_at is None  # the first reading is only a baseline
    agent.set_counters({7: {"name": "Gi0/1", "hc_in": 1_000_000 + 3 * MBIT_5MIN,
                            "hc_out": 5_000_000 + 10 * MBIT_5MIN}})
    port = _poll(port, T0 + timedelta(seconds=300))
    assert port.last_in_bps == pytest.approx(3_000_000)
    assert port.last_out_bps == pytest.approx(10_000_000)
    row = TrafficSlot.objects.get(port=port, resolution=300, start_at=datetime(2026, 3, 10, 9, 5, tzinfo=TZ))
    assert (row.in_avg, row.out_max) == (pytest.approx(3e6), pytest.approx(1e7))


@pytest.mark.django_db
def test_64bit_wrap_gives_the_true_rate(agent, engineer):
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 2**64 - 1_000, "hc_out": 2**64 - 10}})
    port = _poll(_port(agent, engineer, interface="1"), T0)
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": MBIT_5MIN - 1_000, "hc_out": 2 * MBIT_5MIN - 10}})
    port = _poll(port, T0 + timedelta(seconds=300))
    assert port.last_in_bps == pytest.approx(1_000_000)
    assert port.last_out_bps == pytest.approx(2_000_000)


@pytest.mark.django_db
def test_32bit_fallback_and_its_wrap(agent, engineer):
    # No ifHC counters on this interface: the poller falls back to ifInOctets/ifOutOctets.
    agent.set_counters({2: {"name": "Fa0/2", "in": 2**32 - 500, "out": 100}})
    port = _poll(_port(agent, engineer, interface="Fa0/2"), T0)
    assert port.counter_bits == 32
    agent.set_counters({2: {"name": "Fa0/2", "in": MBIT_5MIN // 10 - 500, "out": 100 + MBIT_5MIN // 10}})
    port = _poll(port, T0 + timedelta(seconds=300))
    assert port.last_in_bps == pytest.approx(100_000)
    assert port.last_out_bps == pytest.approx(100_000)


@pytest.mark.django_db
def test_device_restart_gives_no_sample_and_no_spike(agent, engineer):
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 10**12, "hc_out": 10**12}})
    port = _poll(_port(agent, engineer), T0)
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 10**12 + MBIT_5MIN, "hc_out": 10**12 + MBIT_5MIN}})
    time.sleep(1.2)  # the agent's sysUpTime before the restart is well above its value after
    port = _poll(port, T0 + timedelta(seconds=300))
    assert port.last_in_bps == pytest.approx(1e6)
    agent.restart()  # a real restart: sysUpTime starts from zero and the counters from small values
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 5_000, "hc_out": 7_000}})
    port = _poll(port, T0 + timedelta(seconds=600))
    assert port.last_detail == "device restarted"
    assert port.last_sample_at == T0 + timedelta(seconds=300)  # no new sample
    # Counted again from the new baseline at the next poll.
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 5_000 + 2 * MBIT_5MIN, "hc_out": 7_000 + MBIT_5MIN}})
    port = _poll(port, T0 + timedelta(seconds=900))
    assert port.last_in_bps == pytest.approx(2e6)
    assert max(TrafficSlot.objects.filter(port=port).values_list("in_max", flat=True)) == pytest.approx(2e6)


@pytest.mark.django_db
def test_counter_reset_without_uptime_going_back_is_not_a_wrap(agent, engineer):
    # Counters cleared on the switch (uptime keeps running): 2^64 - 10^12 + 5 octets in 300 s
    # would be far beyond the line speed, so it is a reset, not a wrap.
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 10**12, "hc_out": 10**12}})
    port = _poll(_port(agent, engineer), T0)
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": 5, "hc_out": 5}})
    port = _poll(port, T0 + timedelta(seconds=300))
    assert port.last_detail == "counter reset"
    assert not TrafficSlot.objects.filter(port=port).exists()


@pytest.mark.django_db
def test_two_pollers_never_claim_the_same_port(agent, engineer):
    port = _port(agent, engineer)
    SwitchPort.objects.filter(pk=port.pk).update(next_due_at=T0)
    assert [s.id for s in ports_claim(now=T0)] == [port.pk]
    assert ports_claim(now=T0) == []  # the second poller finds it leased


def test_percentile95_definition():
    # 100 samples 1..100: the top 5 (96..100) are discarded, the highest remaining is 95.
    assert percentile95([float(v) for v in reversed(range(1, 101))]) == 95.0
    # 30 samples: floor(1.5) = 1 discarded.
    assert percentile95([float(v) for v in range(1, 31)]) == 29.0
    assert percentile95([3.0, 1.0]) == 3.0  # fewer than 20 samples: nothing discarded
    assert percentile95([]) is None


@pytest.mark.django_db
def test_monthly_95th_percentile_of_a_known_series_polled_from_the_agent(agent, engineer):
    # 40 polls at rates 1..40 Mbit/s (shuffled); in is k Mbit/s, out 2k Mbit/s. 40 × 5 % = 2
    # discarded (40, 39): the 95th is 38 Mbit/s in and 76 Mbit/s out.
    rates = [(k * 17) % 40 + 1 for k in range(40)]
    assert sorted(rates) == list(range(1, 41))
    hc_in, hc_out = 0, 0
    agent.set_counters({1: {"name": "Gi0/1", "hc_in": hc_in, "hc_out": hc_out}})
    port = _poll(_port(agent, engineer), T0)
    for n, k in enumerate(rates, start=1):
        hc_in += k * MBIT_5MIN
        hc_out += 2 * k * MBIT_5MIN
        agent.set_counters({1: {"name": "Gi0/1", "hc_in": hc_in, "hc_out": hc_out}})
        port = _poll(port, T0 + timedelta(seconds=300 * n))
    p = month_p95(port_id=port.pk, year=2026, month=3)
    assert p["samples"] == 40
    assert p["in"] == pytest.approx(38e6)
    assert p["out"] == pytest.approx(76e6)
    data = traffic_graph(port=port, graph="day", now=T0 + timedelta(seconds=300 * 40))
    assert data["summary"]["p95"]["in"] == pytest.approx(38e6)
    assert data["summary"]["in_max"] == pytest.approx(40e6)
    assert data["summary"]["in_current"] == pytest.approx(rates[-1] * 1e6)
