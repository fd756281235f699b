"""Control schema: every validation rule gives a field-level error; valid payloads round-trip JSON, dataclass, protobuf."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthmarket.domain.control import (
    ALLOWED_WEIGHTS,
    ALLOWED_WINDOWS,
    DEFAULT_CONTROL,
    SEED_MAX,
    UPDATED_BY_MAX_LEN,
    ControlValidationError,
    SyntheticControlState,
    SyntheticProfileWeightMap,
    control_from_json,
    validate_control,
)
from synthmarket.domain.presets import SyntheticControlPresetId
from synthmarket.domain.profiles import PUBLIC_PROFILE_IDS
from synthmarket.v1 import control_pb2
from synthmarket.wire import control_from_proto, control_to_proto


def good_payload(**overrides) -> dict:
    payload = {
        "preset_id": "event_day",
        "coverage_assist": False,
        "coverage_window_minutes": 30,
        "shared_seed": 42,
        "profile_weights": dict.fromkeys(PUBLIC_PROFILE_IDS, 1.0),
        "updated_at": "2026-11-26T11:00:00Z",
        "updated_by": "ops@example",
    }
    payload.update(overrides)
    return payload


def errors_of(payload) -> dict[str, str]:
    with pytest.raises(ControlValidationError) as info:
        validate_control(payload)
    fields = [e.field for e in info.value.errors]
    assert len(fields) == len(set(fields)), f"one error per field expected, got {fields}"
    return {e.field: e.message for e in info.value.errors}


def only_error(payload) -> tuple[str, str]:
    errs = errors_of(payload)
    assert len(errs) == 1, f"expected exactly one field error, got {errs}"
    return next(iter(errs.items()))


def proto_roundtrip(state: SyntheticControlState) -> SyntheticControlState:
    data = control_to_proto(state).SerializeToString()
    return control_from_proto(control_pb2.SyntheticControlState.FromString(data))


# --- the body as a whole -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, kind", [([], "array"), ("x", "string"), (3, "integer"), (1.5, "number"), (None, "null"), (True, "boolean")]
)
def test_non_object_body_is_an_error_on_the_root(body, kind):
    field, message = only_error(body)
    assert field == "$"
    assert message == f"expected a JSON object, got {kind}"


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"{'preset_id': 1}", b"not json", b'{"a":1,}', b"\xff\xfe\xfa", "\ufeff{}", b"[" * 100_000],
    ids=["empty", "truncated", "single-quotes", "text", "trailing-comma", "bad-bytes", "bom-str", "deep-nesting"],
)
def test_invalid_json_is_a_root_error_not_a_crash(raw):
    with pytest.raises(ControlValidationError) as info:
        control_from_json(raw)
    assert [e.field for e in info.value.errors] == ["$"]
    assert info.value.errors[0].message.startswith("not valid JSON")


def test_valid_json_document_that_is_not_an_object():
    with pytest.raises(ControlValidationError) as info:
        control_from_json(b"[1, 2]")
    assert info.value.to_dict() == {
        "error": "invalid control state",
        "fields": [{"field": "$", "message": "expected a JSON object, got array"}],
    }


def test_empty_object_names_every_required_field():
    errs = errors_of({})
    assert errs == {
        "preset_id": "missing required field",
        "coverage_assist": "missing required field",
        "coverage_window_minutes": "missing required field",
        "shared_seed": "missing required field",
        "profile_weights": "missing required field",
    }


@pytest.mark.parametrize("field", ["preset_id", "coverage_assist", "coverage_window_minutes", "shared_seed", "profile_weights"])
def test_each_missing_required_field_is_named(field):
    payload = good_payload()
    del payload[field]
    assert only_error(payload) == (field, "missing required field")


@pytest.mark.parametrize("field", ["updated_at", "updated_by"])
def test_server_fields_are_optional(field):
    payload = good_payload()
    del payload[field]
    assert getattr(validate_control(payload), field) is None


def test_unknown_top_level_fields_are_each_named():
    errs = errors_of(good_payload(speed=2, presetId="event_day"))
    assert errs == {"presetId": "unknown field", "speed": "unknown field"}


def test_non_string_keys_from_a_python_caller_are_field_errors_not_a_crash():
    errs = errors_of({**good_payload(), 7: "x"})
    assert errs == {"7": "unknown field"}


def test_every_problem_is_reported_at_once():
    payload = good_payload(preset_id="nope", coverage_window_minutes=15, shared_seed=-1, extra=1)
    payload["profile_weights"] = {**payload["profile_weights"], "arbitrage": 2.0}
    assert set(errors_of(payload)) == {
        "preset_id", "coverage_window_minutes", "shared_seed", "extra", "profile_weights.arbitrage",
    }


# --- preset_id -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["BALANCED_DEMO", "balanced-demo", "", "turbo", " balanced_demo"])
def test_unknown_preset_lists_the_allowed_values(value):
    field, message = only_error(good_payload(preset_id=value))
    assert field == "preset_id"
    assert message == (
        f"must be one of balanced_demo, event_day, dealer_day, retail_chase, quiet_range; got {value!r}"
    )


@pytest.mark.parametrize("value, kind", [(1, "integer"), (None, "null"), (True, "boolean"), (["event_day"], "array")])
def test_preset_of_the_wrong_type(value, kind):
    assert only_error(good_payload(preset_id=value)) == ("preset_id", f"expected a string, got {kind}")


# --- coverage_assist -----------------------------------------------------------------------


@pytest.mark.parametrize("value, kind", [(1, "integer"), (0, "integer"), ("true", "string"), (None, "null"), (1.0, "number")])
def test_coverage_assist_must_be_a_boolean(value, kind):
    assert only_error(good_payload(coverage_assist=value)) == ("coverage_assist", f"expected a boolean, got {kind}")


# --- coverage_window_minutes ---------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 5, 15, 25, 40, 60, -10, 10**30])
def test_window_outside_10_20_30(value):
    assert only_error(good_payload(coverage_window_minutes=value)) == (
        "coverage_window_minutes",
        f"must be one of 10, 20, 30; got {value}",
    )


@pytest.mark.parametrize(
    "value, kind", [(20.0, "number"), ("20", "string"), (True, "boolean"), (None, "null"), ([20], "array")]
)
def test_window_of_the_wrong_type(value, kind):
    assert only_error(good_payload(coverage_window_minutes=value)) == (
        "coverage_window_minutes",
        f"expected an integer, got {kind}",
    )


# --- shared_seed ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, -(2**63), 2**64, 2**64 + 1, 10**40])
def test_seed_outside_unsigned_64_bits(value):
    field, message = only_error(good_payload(shared_seed=value))
    assert field == "shared_seed"
    assert message == f"must be between 0 and {SEED_MAX} (unsigned 64-bit); got {value}"


@pytest.mark.parametrize(
    "value, kind", [(1.0, "number"), (42.5, "number"), ("42", "string"), (True, "boolean"), (False, "boolean"), (None, "null")]
)
def test_seed_of_the_wrong_type(value, kind):
    assert only_error(good_payload(shared_seed=value)) == ("shared_seed", f"expected an integer, got {kind}")


@pytest.mark.parametrize("value", [0, 1, 2**63, SEED_MAX])
def test_seed_bounds_are_inclusive(value):
    assert validate_control(good_payload(shared_seed=value)).shared_seed == value


def test_float_seed_from_json_text_is_rejected():
    text = json.dumps(good_payload()).replace('"shared_seed": 42', '"shared_seed": 42.0')
    with pytest.raises(ControlValidationError) as info:
        control_from_json(text)
    assert [e.field for e in info.value.errors] == ["shared_seed"]


# --- profile_weights -----------------------------------------------------------------------


@pytest.mark.parametrize("value, kind", [([1.0] * 6, "array"), (None, "null"), ("1.0", "string"), (1.0, "number")])
def test_profile_weights_must_be_an_object(value, kind):
    assert only_error(good_payload(profile_weights=value)) == ("profile_weights", f"expected an object, got {kind}")


@pytest.mark.parametrize("profile", PUBLIC_PROFILE_IDS)
def test_each_missing_profile_weight_is_named(profile):
    payload = good_payload()
    del payload["profile_weights"][profile]
    assert only_error(payload) == (f"profile_weights.{profile}", "missing required field")


def test_empty_profile_weights_names_all_six():
    errs = errors_of(good_payload(profile_weights={}))
    assert errs == {f"profile_weights.{p}": "missing required field" for p in PUBLIC_PROFILE_IDS}


def test_unknown_profile_weight_key():
    payload = good_payload()
    payload["profile_weights"]["neutral_noise"] = 1.0
    assert only_error(payload) == ("profile_weights.neutral_noise", "unknown profile")


@pytest.mark.parametrize(
    "value", [0, 0.5, 0.59, 0.7, 1.2, 1.5, 1.61, 2.0, -1.0, 10**400, float("inf"), float("nan")]
)
def test_weight_other_than_low_normal_high(value):
    payload = good_payload()
    payload["profile_weights"]["vol_seller"] = value
    assert only_error(payload) == (
        "profile_weights.vol_seller",
        f"must be 0.6 (low), 1.0 (normal) or 1.6 (high); got {value}",
    )


@pytest.mark.parametrize("value, kind", [("1.0", "string"), (True, "boolean"), (None, "null"), ({}, "object"), ([1.0], "array")])
def test_weight_of_the_wrong_type(value, kind):
    payload = good_payload()
    payload["profile_weights"]["arbitrage"] = value
    assert only_error(payload) == ("profile_weights.arbitrage", f"expected a number, got {kind}")


def test_integer_weight_one_is_accepted_as_normal():
    payload = good_payload()
    payload["profile_weights"]["retail_whale"] = 1
    assert validate_control(payload).profile_weights["retail_whale"] == 1.0


def test_weight_within_float_noise_snaps_to_the_allowed_value():
    payload = good_payload()
    payload["profile_weights"]["retail_whale"] = 0.1 * 6  # 0.6000000000000001
    weights = validate_control(payload).profile_weights
    assert weights["retail_whale"] == 0.6


# --- updated_at / updated_by ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["updated_at", "updated_by"])
@pytest.mark.parametrize("value, kind", [(1, "integer"), (True, "boolean"), ({}, "object"), (1.5, "number")])
def test_server_fields_must_be_string_or_null(field, value, kind):
    assert only_error(good_payload(**{field: value})) == (field, f"expected a string or null, got {kind}")


def test_updated_by_length_limit():
    assert validate_control(good_payload(updated_by="x" * UPDATED_BY_MAX_LEN)).updated_by == "x" * UPDATED_BY_MAX_LEN
    assert only_error(good_payload(updated_by="x" * (UPDATED_BY_MAX_LEN + 1))) == (
        "updated_by",
        f"must be at most {UPDATED_BY_MAX_LEN} characters",
    )


# --- the weight map type -------------------------------------------------------------------


def test_weight_map_always_holds_all_six_in_public_order():
    weights = SyntheticProfileWeightMap({"arbitrage": 1.6})
    assert list(weights) == list(PUBLIC_PROFILE_IDS)
    assert weights.to_dict() == {p: (1.6 if p == "arbitrage" else 1.0) for p in PUBLIC_PROFILE_IDS}
    with pytest.raises(KeyError):
        SyntheticProfileWeightMap({"neutral_noise": 1.0})
    with pytest.raises(ValueError):
        SyntheticProfileWeightMap({"arbitrage": 1.3})


def test_defaults_match_the_design():
    assert DEFAULT_CONTROL.preset_id is SyntheticControlPresetId.BALANCED_DEMO
    assert DEFAULT_CONTROL.coverage_assist is True
    assert DEFAULT_CONTROL.coverage_window_minutes == 20
    assert dict(DEFAULT_CONTROL.profile_weights) == dict.fromkeys(PUBLIC_PROFILE_IDS, 1.0)


# --- lossless round trips JSON <-> dataclass <-> protobuf ----------------------------------


def assert_roundtrips(payload: dict) -> None:
    state = control_from_json(json.dumps(payload))
    assert state.to_dict() == {"updated_at": None, "updated_by": None, **payload}
    assert control_from_json(state.to_json_bytes()) == state
    back = proto_roundtrip(state)
    assert back == state
    assert back.to_json_bytes() == state.to_json_bytes()


@pytest.mark.parametrize("preset", [p.value for p in SyntheticControlPresetId])
def test_every_preset_roundtrips(preset):
    assert_roundtrips(good_payload(preset_id=preset))


@pytest.mark.parametrize("weight", ALLOWED_WEIGHTS)
@pytest.mark.parametrize("profile", PUBLIC_PROFILE_IDS)
def test_every_weight_value_roundtrips(profile, weight):
    payload = good_payload()
    payload["profile_weights"][profile] = weight
    assert_roundtrips(payload)


@pytest.mark.parametrize("window", ALLOWED_WINDOWS)
@pytest.mark.parametrize("assist", [True, False])
def test_every_window_and_assist_roundtrips(window, assist):
    assert_roundtrips(good_payload(coverage_window_minutes=window, coverage_assist=assist))


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**63 - 1, 2**63, SEED_MAX])
def test_seed_extremes_roundtrip_without_loss(seed):
    assert_roundtrips(good_payload(shared_seed=seed))
    assert control_to_proto(validate_control(good_payload(shared_seed=seed))).shared_seed == seed


def test_null_server_fields_stay_null_through_protobuf():
    state = validate_control(good_payload(updated_at=None, updated_by=None))
    msg = control_to_proto(state)
    assert not msg.HasField("updated_at") and not msg.HasField("updated_by")
    assert proto_roundtrip(state) == state


def test_empty_string_server_fields_stay_empty_strings_through_protobuf():
    state = validate_control(good_payload(updated_at="", updated_by=""))
    back = proto_roundtrip(state)
    assert back.updated_at == "" and back.updated_by == ""


def test_default_control_roundtrips():
    assert control_from_json(DEFAULT_CONTROL.to_json_bytes()) == DEFAULT_CONTROL
    assert proto_roundtrip(DEFAULT_CONTROL) == DEFAULT_CONTROL


valid_payloads = st.fixed_dictionaries(
    {
        "preset_id": st.sampled_from([p.value for p in SyntheticControlPresetId]),
        "coverage_assist": st.booleans(),
        "coverage_window_minutes": st.sampled_from(ALLOWED_WINDOWS),
        "shared_seed": st.integers(min_value=0, max_value=SEED_MAX),
        "profile_weights": st.fixed_dictionaries({p: st.sampled_from(ALLOWED_WEIGHTS) for p in PUBLIC_PROFILE_IDS}),
        "updated_at": st.none() | st.text(max_size=40),
        "updated_by": st.none() | st.text(max_size=UPDATED_BY_MAX_LEN),
    }
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(valid_payloads)
def test_property_valid_payloads_roundtrip_losslessly(payload):
    assert_roundtrips(payload)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(valid_payloads, st.one_of(st.integers(max_value=-1), st.integers(min_value=SEED_MAX + 1)))
def test_property_out_of_range_seeds_are_rejected_on_that_field_only(payload, seed):
    assert only_error({**payload, "shared_seed": seed})[0] == "shared_seed"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    valid_payloads,
    st.sampled_from(PUBLIC_PROFILE_IDS),
    st.floats(allow_nan=False).filter(lambda w: all(not math.isclose(w, a, abs_tol=1e-9) for a in ALLOWED_WEIGHTS)),
)
def test_property_disallowed_weights_are_rejected_on_that_profile_only(payload, profile, weight):
    payload = copy.deepcopy(payload)
    payload["profile_weights"][profile] = weight
    assert only_error(payload)[0] == f"profile_weights.{profile}"


# --- decoding protobuf goes through the same validation ------------------------------------


def good_message(**overrides) -> control_pb2.SyntheticControlState:
    msg = control_to_proto(validate_control(good_payload()))
    for key, value in overrides.items():
        setattr(msg, key, value)
    return msg


def proto_error(msg: control_pb2.SyntheticControlState) -> dict[str, str]:
    with pytest.raises(ControlValidationError) as info:
        control_from_proto(msg)
    return {e.field: e.message for e in info.value.errors}


def test_proto_unspecified_preset_reads_as_missing():
    msg = good_message(preset_id=control_pb2.SYNTHETIC_CONTROL_PRESET_ID_UNSPECIFIED)
    assert proto_error(msg) == {"preset_id": "missing required field"}


def test_proto_unknown_preset_number_is_a_preset_error():
    msg = control_pb2.SyntheticControlState.FromString(good_message().SerializeToString())
    msg.preset_id = 99  # proto3 enums are open: an unknown number survives parsing
    errs = proto_error(msg)
    assert list(errs) == ["preset_id"] and "got '99'" in errs["preset_id"]


def test_proto_unset_weights_read_as_missing():
    msg = good_message()
    msg.ClearField("profile_weights")
    assert proto_error(msg) == {"profile_weights": "missing required field"}


def test_proto_zero_weight_is_rejected_by_field():
    msg = good_message()
    msg.profile_weights.hedge_reactive = 0.0
    assert list(proto_error(msg)) == ["profile_weights.hedge_reactive"]


def test_proto_window_and_length_rules_apply():
    assert list(proto_error(good_message(coverage_window_minutes=0))) == ["coverage_window_minutes"]
    assert list(proto_error(good_message(updated_by="y" * (UPDATED_BY_MAX_LEN + 1)))) == ["updated_by"]


def test_proto_uint64_field_refuses_out_of_range_seeds():
    msg = control_pb2.SyntheticControlState()
    for bad in (-1, 2**64):
        with pytest.raises(ValueError):
            msg.shared_seed = bad
