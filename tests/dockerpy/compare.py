"""Compares a pytest junit XML of docker-py's integration suite with the
list of tests expected to fail; prints per-file counts and every surprise.

Usage: compare.py [--partial] [--suggest OUT] JUNIT.xml EXPECTED-FAILURES.txt

--suggest OUT writes the list as this run would have it: the listed tests
that still fail with their reasons, and each new failure as
"berth-gap: TODO <its error>" for a person to sort into a reason.

Exit status 1 when a test that is not listed failed, when a listed test
passed or was skipped (take it off the list: the list only shrinks), when
the list names a test the run did not have (unless --partial: a run of
part of the suite), or when a line of the list is malformed.
"""

import re
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict

# The reasons a test may be listed for (the first word(s) of its reason).
REASONS = (
    "hub:",  # pulls from Docker Hub (no internet in CI)
    "issue-13 registry:",  # pull/push/login against a registry
    "swarm:",  # swarm mode: nodes, services, secrets, configs
    "broken-test:",  # the test itself is wrong (say why)
)
# A new failure is suggested as "berth-gap: TODO …", which is not a reason
# the list accepts: it is to be fixed in berth, or sorted into one above.


def read_expected(path):
    expected, problems = OrderedDict(), []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].startswith(REASONS):
                problems.append(f"{path}:{n}: wants '<test id> <reason>' with a reason starting {' / '.join(REASONS)}: {line}")
                continue
            if parts[0] in expected:
                problems.append(f"{path}:{n}: {parts[0]} is listed twice")
            expected[parts[0]] = parts[1]
    return expected, problems


def test_id(classname, name):
    """tests.integration.api_container_test.CreateContainerTest + test_x ->
    api_container_test.py::CreateContainerTest::test_x"""
    parts = classname.split(".")
    if parts[:2] == ["tests", "integration"]:
        parts = parts[2:]
    for i, p in enumerate(parts):
        if p.endswith("_test"):
            return "::".join(["/".join(parts[: i + 1]) + ".py"] + parts[i + 1 :] + [name])
    return "::".join(parts + [name])


def read_results(path):
    """{test id: (outcome, message)}; outcome is passed, failed or skipped.
    A test with an error in set-up or tear-down counts as failed."""
    results = OrderedDict()
    for case in ET.parse(path).getroot().iter("testcase"):
        tid = test_id(case.get("classname", ""), case.get("name", ""))
        outcome, msg = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                msg = (child.get("message") or child.text or "").strip()
                break
            if child.tag == "skipped":
                outcome, msg = "skipped", (child.get("message") or "").strip()
        prev = results.get(tid)
        if prev and prev[0] == "failed":
            continue
        results[tid] = (outcome, msg)
    return results


def one_line(msg, width=160):
    msg = " ".join(msg.split())
    return msg if len(msg) <= width else msg[: width - 3] + "..."


def write_suggestion(out, listed_path, expected, results):
    with open(listed_path, encoding="utf-8") as f:
        header = []
        for line in f:
            if line.strip() and not line.startswith("#"):
                break
            header.append(line)
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(header)
        for tid, (outcome, msg) in sorted(results.items()):
            if outcome != "failed":
                continue
            reason = expected.get(tid) or "berth-gap: TODO " + one_line(msg, 200)
            f.write(f"{tid}  {reason}\n")


def main(argv):
    partial = "--partial" in argv
    args = [a for a in argv if a != "--partial"]
    suggest = None
    if "--suggest" in args:
        i = args.index("--suggest")
        suggest = args[i + 1] if i + 1 < len(args) else None
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    expected, problems = read_expected(args[1])
    results = read_results(args[0])

    per_file = OrderedDict()
    unexpected_fail, unexpected_pass = [], []
    for tid, (outcome, msg) in sorted(results.items()):
        row = per_file.setdefault(tid.split("::")[0], {"passed": 0, "failed": 0, "listed": 0, "skipped": 0})
        listed = tid in expected
        if outcome == "failed" and listed:
            row["listed"] += 1
        elif outcome == "failed":
            row["failed"] += 1
            unexpected_fail.append((tid, msg))
        else:
            row[outcome] += 1
            if listed:
                unexpected_pass.append((tid, outcome, expected[tid]))
    stale = [] if partial else [t for t in expected if t not in results]

    w = max([len(f) for f in per_file] + [4])
    print(f"{'file':<{w}}  passed  expected-fail  unexpected-fail  skipped")
    tot = {"passed": 0, "failed": 0, "listed": 0, "skipped": 0}
    for f, row in per_file.items():
        print(f"{f:<{w}}  {row['passed']:>6}  {row['listed']:>13}  {row['failed']:>15}  {row['skipped']:>7}")
        for k in tot:
            tot[k] += row[k]
    print(f"{'total':<{w}}  {tot['passed']:>6}  {tot['listed']:>13}  {tot['failed']:>15}  {tot['skipped']:>7}")

    for tid, msg in unexpected_fail:
        problems.append(f"FAILED, not in the list: {tid}: {one_line(msg)}")
    for tid, outcome, reason in unexpected_pass:
        problems.append(f"{outcome.upper()}, but listed as failing ({reason}): {tid} -- take it off the list")
    for tid in stale:
        problems.append(f"listed, but not in this run: {tid}")
    for p in problems:
        print(p)
    if suggest:
        write_suggestion(suggest, args[1], expected, results)
    # The closing line counts against the list: "failed" is a failure that
    # is not listed or a listed test that passed; listed failures are apart.
    print(f"dockerpy: {tot['listed']} failed as listed in expected-failures.txt, {len(problems)} problem(s)")
    up = sum(1 for _, o, _ in unexpected_pass if o == "passed")
    us = len(unexpected_pass) - up
    failed = tot["failed"] + len(unexpected_pass)
    print(f"dockerpy: {tot['passed'] - up} passed, {failed} failed, {tot['skipped'] - us} skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
