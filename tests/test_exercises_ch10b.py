"""Chapter 10b's exercise checks accept right answers and reject near misses."""

import json
import pickle
import pickletools
import struct
from collections import Counter, OrderedDict

import pytest

from bigmodel_lib.exercises import ExerciseFailed, ch10b


def test_pickle_globals_finds_every_import_of_every_protocol():
    several = [OrderedDict(a=1), Counter("ab"), complex(1, 2)]  # two globals of one module: memoised strings
    for protocol in (2, 4, 5):
        assert ch10b.pickle_globals(pickle.dumps(several, protocol=protocol)) >= {
            "collections.OrderedDict", "collections.Counter"}
    assert ch10b.pickle_globals(pickle.dumps([1, "text", 2.0], protocol=5)) == set()


def global_opcodes_only(data):
    return {arg.replace(" ", ".") for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}


def last_two_strings_without_memo(data):
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            found.add(arg.replace(" ", ".", 1))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}.{strings[-1]}")
        elif isinstance(arg, str):
            strings.append(arg)
    return found


def test_pickle_globals_check():
    assert "passed" in ch10b.check_pickle_globals(ch10b.pickle_globals)
    for near_miss in (global_opcodes_only, last_two_strings_without_memo):
        with pytest.raises(ExerciseFailed):
            ch10b.check_pickle_globals(near_miss)


def header_with_metadata(data):
    (length,) = struct.unpack("<Q", data[:8])
    return {name: (spec.get("dtype"), spec.get("shape")) for name, spec in json.loads(data[8:8 + length]).items()}


def test_safetensors_header_check():
    assert "passed" in ch10b.check_safetensors_header(ch10b.safetensors_header)
    with pytest.raises(ExerciseFailed):  # keeps the "__metadata__" entry
        ch10b.check_safetensors_header(header_with_metadata)


def test_mlp_parameters_check():
    assert "passed" in ch10b.check_mlp_parameters(lambda n_in, hidden, n_out: (n_in + 1) * hidden + (hidden + 1) * n_out)
    with pytest.raises(ExerciseFailed):  # forgets the biases
        ch10b.check_mlp_parameters(lambda n_in, hidden, n_out: n_in * hidden + hidden * n_out)
