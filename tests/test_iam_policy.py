"""docs/iam-policy.json grants exactly the AWS actions eniflow's code calls, found statically.

The scanner reads every module of src/eniflow (except simulate/, which *writes* flow logs into
a sandbox account and is no part of reading) and finds the AWS operations used on boto3 clients
made by ``AwsOptions.client('svc')`` / ``shared_client('svc')``: method calls and references
(``logs.filter_log_events`` passed as a callable), paginators (``get_paginator('op')``), with
clients and operation names followed through function parameters within a module. A client use
it cannot resolve fails the test, so new code cannot slip past it.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import eniflow

SRC = Path(eniflow.__file__).parent
POLICY = Path(__file__).resolve().parents[1] / "docs" / "iam-policy.json"
EXCLUDED = ("simulate",)  # writes into a sandbox account (S3 PutObject, logs PutLogEvents, ...)
CLIENT_FACTORIES = ("client", "shared_client")
NOT_OPERATIONS = {"meta", "exceptions", "can_paginate", "close", "get_waiter", "waiter_names"}
IAM_ACTION = {  # API operations whose IAM action has another name
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
}


class _Scope:
    """A function (or a module body): its parameters and the names bound to clients in it."""

    def __init__(self, node, parent: _Scope | None):
        self.node, self.parent = node, parent
        args = node.args if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        self.params = [a.arg for a in (args.posonlyargs + args.args + args.kwonlyargs)] if args else []
        self.clients: dict[str, set[str]] = {}  # name -> services
        self.strings: dict[str, set[str]] = {}  # parameter -> string literals passed to it

    def services(self, name: str) -> set[str]:
        scope = self
        while scope:
            if name in scope.clients:
                return scope.clients[name]
            scope = scope.parent
        return set()


def _factory_service(node) -> str | None:
    """'s3' for ``<anything>.client("s3")`` / ``.shared_client("s3")``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_FACTORIES \
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def scan(source: str) -> tuple[set[tuple[str, str]], list[str]]:
    """(service, snake_case operation) pairs used in ``source``, and what could not be resolved."""
    tree = ast.parse(source)
    scopes: dict[ast.AST, _Scope] = {}
    functions: dict[str, _Scope] = {}

    def build(node, parent):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                scopes[child] = scope = _Scope(child, parent)
                functions[child.name] = scope
                build(child, scope)
            else:
                build(child, parent)

    scopes[tree] = _Scope(tree, None)
    build(tree, scopes[tree])

    node_scope: dict[ast.AST, _Scope] = {}  # every node -> the function it is in

    def assign(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = scopes.get(child, scope)
            node_scope[child] = inner
            assign(child, inner)

    node_scope[tree] = scopes[tree]
    assign(tree, scopes[tree])

    def expr_services(node, scope) -> set[str]:
        service = _factory_service(node)
        if service:
            return {service}
        if isinstance(node, ast.Name):
            return scope.services(node.id)
        return set()

    changed = True
    while changed:  # bindings, then what call sites pass to parameters, until nothing new
        changed = False
        for node in ast.walk(tree):
            scope = node_scope[node]
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found = expr_services(node.value, scope)
                if found - scope.clients.get(node.targets[0].id, set()):
                    scope.clients.setdefault(node.targets[0].id, set()).update(found)
                    changed = True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                callee = functions[node.func.id]
                passed = list(zip(callee.params, node.args)) + [(k.arg, k.value) for k in node.keywords if k.arg]
                for param, value in passed:
                    found = expr_services(value, scope)
                    if found - callee.clients.get(param, set()):
                        callee.clients.setdefault(param, set()).update(found)
                        changed = True
                    if isinstance(value, ast.Constant) and isinstance(value.value, str) and \
                            value.value not in callee.strings.get(param, set()):
                        callee.strings.setdefault(param, set()).add(value.value)
                        changed = True

    used: set[tuple[str, str]] = set()
    unresolved: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        scope = node_scope[node]
        services = expr_services(node.value, scope)
        if not services or node.attr in NOT_OPERATIONS:
            continue
        if node.attr == "get_paginator":
            call = next((c for c in ast.walk(tree) if isinstance(c, ast.Call) and c.func is node), None)
            arg = call.args[0] if call and call.args else None
            if isinstance(arg, ast.Constant):
                operations = {arg.value}
            elif isinstance(arg, ast.Name) and scope.strings.get(arg.id):
                operations = scope.strings[arg.id]
            else:
                unresolved.append(f"line {node.lineno}: get_paginator with an operation not known statically")
                continue
        else:
            operations = {node.attr}
        used |= {(s, op) for s in services for op in operations}
    return used, unresolved


def iam_action(service: str, operation: str) -> str:
    """The IAM action of a boto3 method (``describe_log_streams`` -> ``logs:DescribeLogStreams``)."""
    import boto3

    api = boto3.client(service, region_name="us-east-1").meta.method_to_api_mapping[operation]
    return IAM_ACTION.get((service, api), f"{service}:{api}")


def code_actions() -> tuple[dict[str, list[str]], list[str]]:
    actions: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in EXCLUDED:
            continue
        used, unresolved = scan(path.read_text(encoding="utf-8"))
        problems += [f"{rel}: {u}" for u in unresolved]
        for service, operation in used:
            actions.setdefault(iam_action(service, operation), []).append(str(rel))
    return actions, problems


def policy_actions() -> set[str]:
    doc = json.loads(POLICY.read_text(encoding="utf-8"))
    out = set()
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        action = statement["Action"]
        out |= {action} if isinstance(action, str) else set(action)
    return out


def test_policy_grants_exactly_the_actions_the_code_calls():
    actions, problems = code_actions()
    assert problems == []
    assert set(actions) == policy_actions()
    # What the code calls today (update both when the code grows a call):
    assert sorted(actions) == ["ec2:DescribeFlowLogs", "ec2:DescribeNetworkInterfaces", "logs:DescribeLogGroups",
                               "logs:DescribeLogStreams", "logs:FilterLogEvents", "s3:GetObject", "s3:ListBucket"]


def test_policy_is_read_only():
    read_verbs = ("Get", "List", "Describe", "Filter")
    assert all(a.split(":")[1].startswith(read_verbs) for a in policy_actions())
    assert not any("*" in a for a in policy_actions())


def test_actions_named_in_error_messages_are_in_the_policy():
    """Errors tell users which permission to add; it must be one the policy grants."""
    named = set()
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).parts[0] in EXCLUDED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    node.value.split(":")[0] in ("s3", "logs", "ec2") and node.value.count(":") == 1 and \
                    node.value.split(":")[1][:1].isupper():
                named.add(node.value)
    assert named and named <= policy_actions()


@pytest.mark.parametrize("source, expected", [
    ('def f(aws):\n    s3 = aws.client("s3")\n    s3.put_object(Bucket="b", Key="k", Body=b"")\n',
     {("s3", "put_object")}),
    ('def f(aws):\n    return aws.shared_client("logs").get_paginator("describe_log_groups")\n',
     {("logs", "describe_log_groups")}),
    (('def pages(c, op):\n    return c.get_paginator(op).paginate()\n'
     'def f(aws):\n    ec2 = aws.client("ec2")\n    pages(ec2, "describe_vpcs")\n'),
     {("ec2", "describe_vpcs")}),
    (('def g(logs):\n    run(logs.get_log_events)\n'
     'def f(aws):\n    g(aws.shared_client("logs"))\n'), {("logs", "get_log_events")}),
])
def test_scanner_finds_calls_through_variables_parameters_and_paginators(source, expected):
    assert scan(source) == (expected, [])


def test_scanner_reports_what_it_cannot_resolve():
    source = 'def f(aws, op):\n    aws.client("s3").get_paginator(op)\n'
    assert scan(source)[1] == ["line 2: get_paginator with an operation not known statically"]
