"""The signaling protocol refuses what a browser must not send, before anything uses it."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consulto.teleconsultation import protocol
from consulto.teleconsultation.protocol import Invalid, parse


def _parse(obj, practitioner=True):
    return parse(json.dumps(obj), practitioner=practitioner)


def test_an_offer_answer_and_candidates_pass():
    assert _parse({"type": "offer", "sdp": "v=0"}).data == {"sdp": "v=0", "restart": False}
    assert _parse({"type": "offer", "sdp": "v=0", "restart": True}).data["restart"] is True
    assert _parse({"type": "answer", "sdp": "v=0"}).type == "answer"
    candidate = {"type": "candidate", "candidate": "candidate:1 1 udp 1 1.2.3.4 5 typ host",
                 "sdpMid": "0", "sdpMLineIndex": 0}  # fmt: skip
    assert _parse(candidate).data["sdpMid"] == "0"
    # The end of candidates is an empty candidate.
    assert _parse({"type": "candidate", "candidate": ""}).data["candidate"] == ""


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "not_json"),
        ("[1, 2]", "no_type"),
        ('{"type": 3}', "no_type"),
        ('{"type": "launch"}', "unknown_type"),
        ('{"type": "offer"}', "bad_sdp"),
        ('{"type": "offer", "sdp": "v=0", "restart": "yes"}', "bad_restart"),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": -1}', "bad_sdpMLineIndex"),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": true}', "bad_sdpMLineIndex"),
        ('{"type": "chat", "text": "   "}', "bad_text"),
        ('{"type": "chat", "text": "' + "x" * 2001 + '"}', "bad_text"),
        ('{"type": "stats", "jitter_ms": -1}', "bad_jitter_ms"),
        ('{"type": "stats", "loss_percent": 101}', "bad_loss_percent"),
        ('{"type": "stats", "frames_decoded": 1.5}', "bad_frames_decoded"),
        ('{"type": "stats", "rtt_ms": "12"}', "bad_rtt_ms"),
    ],
)
def test_bad_frames_are_refused_with_a_code(frame, code):
    with pytest.raises(Invalid) as refused:
        parse(frame, practitioner=True)
    assert refused.value.code == code


def test_a_frame_over_64_kib_is_refused_before_parsing():
    with pytest.raises(Invalid) as refused:
        parse(
            '{"type": "chat", "text": "' + "x" * protocol.MAX_FRAME_BYTES + '"}', practitioner=True
        )
    assert refused.value.code == "too_large"


def test_only_the_practitioner_admits_and_ends():
    for kind in ("admit", "end"):
        with pytest.raises(Invalid) as refused:
            _parse({"type": kind}, practitioner=False)
        assert refused.value.code == "forbidden"
        assert _parse({"type": kind}).type == kind


def test_only_the_practitioner_leaves_an_offer_ahead_and_takes_it_back():
    for message in ({"type": "arm", "sdp": "v=0", "id": 1}, {"type": "disarm"}):
        with pytest.raises(Invalid) as refused:
            _parse(message, practitioner=False)
        assert refused.value.code == "forbidden"
    assert _parse({"type": "arm", "sdp": "v=0", "id": 7, "evil": 1}).data == {"sdp": "v=0", "id": 7}
    assert _parse({"type": "disarm", "sdp": "v=0"}).data == {}
    for bad, code in (
        ({"sdp": "x" * (protocol.MAX_SDP + 1), "id": 1}, "bad_sdp"),
        ({"sdp": "v=0"}, "bad_id"),
        ({"sdp": "v=0", "id": True}, "bad_id"),
        ({"sdp": "v=0", "id": -1}, "bad_id"),
        ({"sdp": "v=0", "id": "1"}, "bad_id"),
    ):
        with pytest.raises(Invalid) as refused:
            _parse({"type": "arm", **bad})
        assert refused.value.code == code


def test_stats_keep_only_known_figures_and_flag_jitter_and_loss():
    data = _parse({"type": "stats", "jitter_ms": 31, "loss_percent": 0.5, "evil": "x"}).data
    assert data == {"jitter_ms": 31.0, "loss_percent": 0.5}
    assert protocol.flagged(data)
    assert not protocol.flagged({"jitter_ms": 12.0, "loss_percent": 1.0})
    assert protocol.flagged({"loss_percent": 1.5})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["type", "sdp", "candidate", "text", "sdpMid",
                                        "sdpMLineIndex", "restart", "jitter_ms", "rtt_ms"]),
                       json_values, max_size=6), st.booleans())  # fmt: skip
def test_any_object_is_either_refused_or_a_clean_message(obj, practitioner):
    """Whatever a browser sends: a known type with checked fields, or Invalid; never a crash,
    never a field the protocol does not define."""
    try:
        message = parse(json.dumps(obj), practitioner=practitioner)
    except Invalid:
        return
    allowed = {
        "offer": {"sdp", "restart"},
        "answer": {"sdp"},
        "candidate": {"candidate", "sdpMid", "sdpMLineIndex"},
        "chat": {"text"},
        "stats": set(protocol.STAT_FLOATS) | set(protocol.STAT_INTS),
        "admit": set(),
        "arm": {"sdp", "id"},
        "disarm": set(),
        "end": set(),
        "presence": set(),
        "ping": set(),
    }[message.type]
    assert set(message.data) <= allowed
    if message.type in protocol.PRACTITIONER_ONLY:
        assert practitioner


# Budgets --------------------------------------------------------------------------------------

KINDS = st.sampled_from(["candidate", "stats", "chat", "offer", "ping"])


@given(
    st.lists(
        st.tuples(KINDS, st.floats(min_value=0, max_value=5, allow_nan=False)),
        max_size=400,
    )
)
def test_a_budget_never_lets_more_through_than_its_burst_and_rate(frames):
    """Over any stretch of time, a kind gets at most its burst plus its rate times the
    stretch, and all kinds together at most the general budget."""
    budget = protocol.Budget(now=0.0)
    now, passed = 0.0, []
    for kind, gap in frames:
        now += gap
        if budget.allow(kind, now):
            passed.append((kind, now))
    for kind, (burst, rate) in protocol.RATES.items():
        times = [t for k, t in passed if kind in ("any", k)]
        for i, start in enumerate(times):
            for j in range(i, len(times)):
                assert j - i + 1 <= burst + rate * (times[j] - start) + 1e-9


def test_the_call_pages_pace_always_passes_and_a_flood_is_refused():
    budget = protocol.Budget(now=0.0)
    # ICE gathering: 40 candidates at once, then stats every 5 s and a chat now and then.
    assert all(budget.allow("candidate", 0.0) for _ in range(40))
    assert all(budget.allow("stats", 5.0 * n) for n in range(1, 50))
    assert all(budget.allow("chat", 3.0 * n) for n in range(1, 50))
    # A script sending stats as fast as it can gets three through, then one every 2 s.
    flood = protocol.Budget(now=0.0)
    assert [flood.allow("stats", 0.0) for _ in range(5)] == [True] * 3 + [False] * 2
    assert flood.allow("stats", 1.0) is False and flood.allow("stats", 2.0) is True
    # ...and refused stats leave the other kinds their budget.
    assert flood.allow("candidate", 2.0) is True
