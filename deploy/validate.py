#!/usr/bin/env python3
"""Loads the KServe resources into the `kserve` SDK's models (and the
Kubernetes models they nest), failing on a key no model declares, a value of
the wrong type, or a required field missing (the models' own checks).
Usage: deploy/validate.py FILE..."""

import re
import sys

import kserve
import kubernetes.client.models
import yaml

KINDS = {
    ("serving.kserve.io/v1alpha1", "ServingRuntime"): "V1alpha1ServingRuntime",
    ("serving.kserve.io/v1beta1", "InferenceService"): "V1beta1InferenceService",
}
PRIMITIVES = {"str": str, "int": int, "float": (int, float), "bool": bool, "object": object}


class Invalid(Exception):
    pass


def model_class(name):
    for module in (kserve.models, kubernetes.client.models):
        if hasattr(module, name):
            return getattr(module, name)
    raise Invalid(f"no model {name}")


def load(value, kind, path):
    """`value` as a `kind` (a model name or an OpenAPI type string)."""
    if value is None:
        return None
    if m := re.fullmatch(r"(?:list|List)\[(.*)\]", kind):
        if not isinstance(value, list):
            raise Invalid(f"{path}: a list expected")
        return [load(v, m.group(1), f"{path}[{i}]") for i, v in enumerate(value)]
    if m := re.fullmatch(r"(?:dict\(str, (.*)\)|Dict\[str, (.*)\])", kind):
        if not isinstance(value, dict):
            raise Invalid(f"{path}: a map expected")
        inner = m.group(1) or m.group(2)
        return {k: load(v, inner, f"{path}/{k}") for k, v in value.items()}
    if kind in PRIMITIVES:
        if not isinstance(value, PRIMITIVES[kind]) or (kind != "bool" and isinstance(value, bool)):
            raise Invalid(f"{path}: {value!r} is not a {kind}")
        return value
    klass = model_class(kind)
    if not isinstance(value, dict):
        raise Invalid(f"{path}: an object ({kind}) expected")
    by_key = {key: attr for attr, key in klass.attribute_map.items()}
    unknown = sorted(set(value) - set(by_key))
    if unknown:
        raise Invalid(f"{path}: {kind} has no {', '.join(unknown)}")
    kwargs = {by_key[k]: load(v, klass.openapi_types[by_key[k]], f"{path}/{k}") for k, v in value.items()}
    try:
        return klass(**kwargs)
    except (ValueError, TypeError) as e:
        raise Invalid(f"{path}: {kind}: {e}") from e


def main():
    failed = False
    for name in sys.argv[1:]:
        for doc in yaml.safe_load_all(open(name)):
            kind = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
            try:
                if kind is None:
                    raise Invalid(f"{doc.get('apiVersion')} {doc.get('kind')} is not a KServe resource")
                load(doc, kind, "")
                print(f"{name}: a valid {kind} ({doc['metadata']['name']})")
            except Invalid as e:
                print(f"{name}: {e}")
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
