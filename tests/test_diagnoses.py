"""The diagnosis of a failed check as data: what the check attaches, what the guard hands over, what is kept.

The whole path through nbgrader (a real class graded in the sandbox, the record in the autograded notebook,
kept out of the feedback) is tested in ``tests/test_insight.py``.
"""

import json
import sys

import numpy as np
import pytest
from nbformat.notebooknode import NotebookNode

from autograder import diagnoses
from autograder.checks import _messages as msg
from autograder.sandbox import guard


def failure(code="softmax_axis0", details="case #1"):
    return msg.fail("softmax", msg.Diagnosis(code, "按列求和。", "summed the columns.", details), hidden=True)


def test_a_failing_check_attaches_its_diagnosis_as_data():
    """Does the AssertionError a check raises carry the function, code, flavour and both messages?"""
    error = failure()
    assert isinstance(error, AssertionError)
    record = error.diagnosis
    assert record["function"] == "softmax" and record["code"] == "softmax_axis0" and record["hidden"] is True
    assert record["zh"] == "按列求和。" and record["en"] == "summed the columns."
    assert "softmax_axis0" in str(error)             # the student's message still names the code


def test_the_behaviour_defaults_to_the_case_shown():
    """Do two failures showing the same case share a behaviour, and different cases not?"""
    assert failure(details="got 1").diagnosis["behaviour"] == failure(details="got 1").diagnosis["behaviour"]
    assert failure(details="got 1").diagnosis["behaviour"] != failure(details="got 2").diagnosis["behaviour"]


def test_behaviour_fingerprints_results_not_their_spelling():
    """Are equal results (lists or arrays, -0.0 or 0.0, float noise below 1e-6) one behaviour, and a
    different value, shape or exception another?"""
    a = msg.behaviour([(True, np.array([[0.0, 2.0]])), (False, ValueError("x"))])
    assert a == msg.behaviour([(True, [[-0.0, 2.0 + 1e-9]]), (False, ValueError("other text"))])
    assert a != msg.behaviour([(True, np.array([[0.0, 2.1]])), (False, ValueError("x"))])
    assert a != msg.behaviour([(True, np.array([0.0, 2.0])), (False, ValueError("x"))])
    assert a != msg.behaviour([(True, np.array([[0.0, 2.0]])), (False, TypeError("x"))])
    assert msg.behaviour([(True, (np.ones(2), np.zeros((2, 2))))]) != msg.behaviour([(True, (np.ones(2),))])
    assert msg.behaviour([(True, object())]) == msg.behaviour([(True, object())])


@pytest.mark.parametrize("found", [None, "softmax_axis0", [], {"code": ""}, {"function": "ReLU"}, {"code": 3}])
def test_a_record_that_is_not_one_is_refused(found):
    """Is anything but a dict with a non-empty code refused (it comes from the student's kernel)?"""
    assert diagnoses.clean(found) is None


def test_a_record_is_cut_to_the_known_fields_and_lengths():
    """Are unknown keys dropped, strings cut to their limits and ``hidden`` true only when it is True?"""
    record = diagnoses.clean({"code": "x" * 500, "zh": "中" * 5000, "hidden": "yes", "extra": "<script>",
                              "function": None})
    assert set(record) == set(diagnoses.FIELDS) | {"hidden"}
    assert len(record["code"]) == diagnoses.FIELDS["code"] and len(record["zh"]) == diagnoses.FIELDS["zh"]
    assert record["hidden"] is False and record["function"] == "" and record["behaviour"] == ""


def test_a_cell_keeps_its_record_and_odd_metadata_reads_as_none():
    """Does ``keep`` write what ``of_cell`` reads, and does a cell with odd metadata read as no record?"""
    cell = NotebookNode(cell_type="code", source="", metadata={}, outputs=[])
    diagnoses.keep(cell, diagnoses.clean(failure().diagnosis))
    assert diagnoses.of_cell(cell)["code"] == "softmax_axis0"
    for metadata in ({}, {"autograder": "x"}, {"autograder": {"diagnosis": "x"}}, "x"):
        assert diagnoses.of_cell({"metadata": metadata}) is None


def test_the_guard_hands_over_the_cell_error_once():
    """Does the guard give the record of the error the cell showed, only when name and message match, and
    forget it afterwards?"""
    error = failure()
    sys.last_value = error
    assert json.loads(guard.last_failure("AssertionError", "something else")) is None
    sys.last_value = error
    assert json.loads(guard.last_failure("AssertionError", str(error)))["code"] == "softmax_axis0"
    assert json.loads(guard.last_failure("AssertionError", str(error))) is None      # cleared
    sys.last_value = AssertionError("plain")
    assert json.loads(guard.last_failure("AssertionError", "plain")) is None        # no record attached
