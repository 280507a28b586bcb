"""Writes a normalized snapshot of the official Python SDK's DNS-settings models, for
`cargo run -p xtask -- audit-sdk` (see spec/README.md, "The SDK audit").

Run in the venv of the pinned SDK (.ci/sdk-audit/requirements.txt):

    .ci/sdk-audit/.venv/bin/python .ci/sdk-audit/extract.py > spec/sdk/cloudflare-python-<version>.json

Nothing here names an endpoint. It walks every module of ROOTS (every module under
`cloudflare.resources.dns.settings`, and `cloudflare.resources.zones.zones`, whose list of zones
the fleet reads),
reads each synchronous resource method's source (the `self._get(...)`, `self._patch(...)`, ...
call Stainless generates), and from it takes the HTTP method, the path template, the body and
query parameter types (`maybe_transform(..., XParams)`) and the result type (`ResultWrapper[X]`,
or `SyncV4PagePaginationArray[X]` for a list). Each type is then walked through the models'
Python annotations (pydantic models for responses, TypedDicts for requests) into one small
schema language, printed with sorted keys so that the output depends only on the SDK:

    {"type": "object", "model": name, "fields": {wire name: {"required": bool, "schema": s}}}
    {"type": "array", "items": s}
    {"type": "string" | "number" | "integer" | "boolean", "format"?: "date-time" | "date"}
    {"enum": [values]}          a Literal
    {"oneOf": [s, ...]}         a Union of several types
    any of these with "nullable": true when the annotation admits None
"""

import ast
import datetime
import importlib
import inspect
import json
import pkgutil
import sys
import textwrap
import types
import typing

import pydantic
import typing_extensions

import cloudflare

# The SDK modules read: a package is walked whole, a module alone. An operation read here that
# spec/ does not have is a difference the audit reports (and spec/sdk-audit.json explains).
ROOTS = ["cloudflare.resources.dns.settings", "cloudflare.resources.zones.zones"]

HTTP = {"_get": "GET", "_post": "POST", "_put": "PUT", "_patch": "PATCH", "_delete": "DELETE"}
LIST = "_get_api_list"
METHOD_ORDER = ["GET", "PUT", "POST", "DELETE", "PATCH"]


def fail(message):
    sys.stderr.write(f"extract.py: {message}\n")
    sys.exit(2)


def strip_annotated(tp):
    """(type, wire alias or None) of a possibly Annotated type."""
    alias = None
    while typing_extensions.get_origin(tp) is typing_extensions.Annotated:
        for meta in getattr(tp, "__metadata__", ()):
            alias = getattr(meta, "alias", None) or alias
        tp = typing_extensions.get_args(tp)[0]
    return tp, alias


def schema_of(tp, seen):
    tp, _ = strip_annotated(tp)
    origin = typing_extensions.get_origin(tp)
    args = typing_extensions.get_args(tp)
    if origin in (typing_extensions.Required, typing_extensions.NotRequired):
        return schema_of(args[0], seen)
    if origin in (typing.Union, types.UnionType):
        nullable = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            out = schema_of(rest[0], seen)
        else:
            out = {"oneOf": [schema_of(a, seen) for a in rest]}
        if nullable:
            out["nullable"] = True
        return out
    if origin is typing_extensions.Literal:
        return {"enum": list(args)}
    if origin in (list, tuple, set, frozenset) or (
        origin is not None and getattr(origin, "__name__", "") in ("Sequence", "Iterable", "SequenceNotStr")
    ):
        return {"type": "array", "items": schema_of(args[0], seen)}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(args[1], seen)}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is datetime.datetime:
        return {"type": "string", "format": "date-time"}
    if tp is datetime.date:
        return {"type": "string", "format": "date"}
    if tp is object or tp is typing.Any:
        return {}
    if inspect.isclass(tp) and issubclass(tp, pydantic.BaseModel):
        return model_schema(tp, seen)
    if typing_extensions.is_typeddict(tp):
        return typeddict_schema(tp, seen)
    fail(f"no rule for the type {tp!r}")


def model_schema(cls, seen):
    if cls in seen:
        fail(f"{cls.__name__} is recursive")
    seen = seen | {cls}
    fields = {}
    for name, info in cls.model_fields.items():
        wire = info.alias or name
        fields[wire] = {"required": info.is_required(), "schema": schema_of(info.annotation, seen)}
    return {"type": "object", "model": cls.__name__, "fields": fields}


def typeddict_schema(cls, seen, only=None):
    if cls in seen:
        fail(f"{cls.__name__} is recursive")
    seen = seen | {cls}
    hints = typing_extensions.get_type_hints(cls, include_extras=True)
    fields = {}
    for name, tp in hints.items():
        if only is not None and name not in only:
            continue
        # Read `Required[...]` from the annotation itself: with `from __future__ import
        # annotations` (as Stainless writes the params), `__required_keys__` does not see it.
        inner, _ = strip_annotated(tp)
        marker = typing_extensions.get_origin(inner)
        if marker is typing_extensions.Required:
            required = True
        elif marker is typing_extensions.NotRequired:
            required = False
        else:
            required = cls.__total__
        if marker in (typing_extensions.Required, typing_extensions.NotRequired):
            inner = typing_extensions.get_args(inner)[0]
        _, alias = strip_annotated(inner)
        fields[alias or name] = {"required": required, "schema": schema_of(tp, seen)}
    return {"type": "object", "model": cls.__name__, "fields": fields}


def flatten_query(schema, prefix=""):
    """Query parameters as Cloudflare's client sends them: nested objects with dots
    (`Querystring(nested_format="dots")`)."""
    out = {}
    for name, field in schema["fields"].items():
        inner = field["schema"]
        if inner.get("type") == "object" and "fields" in inner:
            out.update(flatten_query(inner, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = field
    return out


def call_of(function):
    """The `self._verb(...)` call returned by a resource method, or None."""
    source = textwrap.dedent(inspect.getsource(function))
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and isinstance(node.value.func.value, ast.Name)
            and node.value.func.value.id == "self"
            and (node.value.func.attr in HTTP or node.value.func.attr == LIST)
        ):
            return node.value
    return None


def keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def transformed(node, namespace):
    """`maybe_transform({...}, module.XParams)`: (the keys sent, the Params class)."""
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "maybe_transform"):
        fail(f"expected maybe_transform(...), found {ast.unparse(node)}")
    keys = None
    if isinstance(node.args[0], ast.Dict):
        keys = {k.value for k in node.args[0].keys}
    return keys, eval(ast.unparse(node.args[1]), namespace)


def operation(module, cls, name, function):
    call = call_of(function)
    if call is None:
        return None
    namespace = vars(module)
    verb = call.func.attr
    method = HTTP.get(verb, "GET")
    if verb == LIST and keyword(call, "method") is not None:
        method = keyword(call, "method").value.upper()
    path_call = call.args[0]
    if isinstance(path_call, ast.Constant) and isinstance(path_call.value, str):
        # A path without parameters (`"/zones"`) is a plain string.
        path, path_params = path_call.value, []
    elif isinstance(path_call, ast.Call) and getattr(path_call.func, "id", "") == "path_template":
        path = path_call.args[0].value
        path_params = sorted(k.arg for k in path_call.keywords)
    else:
        fail(f"{cls.__name__}.{name}: the path is neither a string nor a path_template(...) call")

    body = None
    body_node = keyword(call, "body")
    if body_node is not None:
        keys, params = transformed(body_node, namespace)
        body = typeddict_schema(params, frozenset(), only=keys)

    query = None
    options = keyword(call, "options")
    query_node = keyword(options, "query") if isinstance(options, ast.Call) else None
    if query_node is not None:
        keys, params = transformed(query_node, namespace)
        query = flatten_query(typeddict_schema(params, frozenset(), only=keys))

    envelope = {}
    if verb == LIST:
        page = eval(ast.unparse(keyword(call, "page")), namespace)
        for field, info in page.model_fields.items():
            envelope[field] = {"required": info.is_required(), "schema": schema_of(info.annotation, frozenset())}
        paged = True
    else:
        cast_to = keyword(call, "cast_to")
        if not (isinstance(cast_to, ast.Call) and getattr(cast_to.func, "id", "") == "cast"):
            fail(f"{cls.__name__}.{name}: cast_to is not cast(Type[...], ...)")
        declared = eval(ast.unparse(cast_to.args[0]), namespace)
        (result,) = typing_extensions.get_args(declared)  # Type[X] -> X
        envelope["result"] = {"required": True, "schema": schema_of(result, frozenset())}
        paged = False

    return {
        "method": method,
        "path": path,
        "path_parameters": path_params,
        "query": query,
        "body": body,
        "response": envelope,
        "paged": paged,
    }


def modules():
    """Every module of ROOTS, in a stable order."""
    for name in ROOTS:
        root = importlib.import_module(name)
        if hasattr(root, "__path__"):
            for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
                yield importlib.import_module(info.name)
        else:
            yield root


def main():
    operations = []
    for module in modules():
        for cls_name, cls in sorted(vars(module).items()):
            if not (
                inspect.isclass(cls)
                and cls.__module__ == module.__name__
                and issubclass(cls, cloudflare._resource.SyncAPIResource)
            ):
                continue
            for name, function in sorted(vars(cls).items()):
                if name.startswith("_") or not inspect.isfunction(function):
                    continue
                op = operation(module, cls, name, function)
                if op is not None:
                    op["sdk"] = f"{module.__name__.removeprefix('cloudflare.resources.')}.{cls_name}.{name}"
                    operations.append(op)
    if not operations:
        fail(f"found no operation under {', '.join(ROOTS)}")
    operations.sort(key=lambda op: (op["path"], METHOD_ORDER.index(op["method"])))
    snapshot = {
        "provenance": {
            "package": "cloudflare",
            "version": cloudflare.__version__,
            "registry": "PyPI",
            "models": "cloudflare/types/dns/settings/ and cloudflare/types/zones/ (pydantic models, "
            "TypedDict params), read through the resources under cloudflare/resources/dns/settings/ "
            "and cloudflare/resources/zones/zones.py",
            "made_by": ".ci/sdk-audit/extract.py in the venv of .ci/sdk-audit/requirements.txt; "
            "never edit by hand (spec/README.md, \"The SDK audit\")",
        },
        "operations": operations,
    }
    sys.stdout.write(json.dumps(snapshot, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
