#!/usr/bin/python3
"""The controller's Universe-style package (manifests/universe), as DC/OS's
package manager (Cosmos) treats it.

  package_tool.py render PACKAGE_DIR [OPTIONS.json]
      Prints marathon.json.mustache rendered with the options: the defaults
      of config.json merged with the given options object by property path
      (as `dcos package install --options` does), plus `resource` (the
      package's resource.json), rendered with mustache (Debian's
      python3-pystache; {{x}} is HTML-escaped as mustache.java does) and
      parsed as JSON. Exit 1 with a message when rendering fails or the
      result is no JSON object.

  package_tool.py check MANIFESTS_DIR
      Every *.json below MANIFESTS_DIR parses; config.json is a valid JSON
      schema and its defaults validate against it; package.json has the
      fields of Universe's packaging version 4.0.
"""

import json
import pathlib
import sys

import jsonschema
import pystache


def defaults_of(schema):
    """The options object of a config schema's defaults, nested by property."""
    out = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "object" and "properties" in prop:
            out[name] = defaults_of(prop)
        elif "default" in prop:
            out[name] = prop["default"]
    return out


def merge(base, override):
    """`override` over `base`, objects merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def render(package_dir, options=None):
    package_dir = pathlib.Path(package_dir)
    schema = json.loads((package_dir / "config.json").read_text())
    resolved = merge(defaults_of(schema), options or {})
    jsonschema.validate(resolved, schema)  # Cosmos refuses options that do not validate
    scope = dict(resolved)
    scope["resource"] = json.loads((package_dir / "resource.json").read_text())
    template = (package_dir / "marathon.json.mustache").read_text()
    text = pystache.Renderer(missing_tags="strict").render(template, scope)
    app = json.loads(text)
    if not isinstance(app, dict):
        raise ValueError("the rendered template is no JSON object")
    return app


PACKAGE_V4_REQUIRED = ["packagingVersion", "name", "version", "maintainer", "description", "tags"]


def check(manifests_dir):
    manifests_dir = pathlib.Path(manifests_dir)
    problems = []
    files = sorted(manifests_dir.rglob("*.json"))
    if not files:
        problems.append(f"{manifests_dir}: no JSON files")
    for f in files:
        try:
            json.loads(f.read_text())
        except ValueError as e:
            problems.append(f"{f}: not JSON: {e}")
    universe = manifests_dir / "universe"
    schema = json.loads((universe / "config.json").read_text())
    try:
        jsonschema.Draft4Validator.check_schema(schema)
        jsonschema.validate(defaults_of(schema), schema)
    except jsonschema.exceptions.SchemaError as e:
        problems.append(f"config.json is no valid JSON schema: {e.message}")
    except jsonschema.exceptions.ValidationError as e:
        problems.append(f"config.json's defaults do not validate: {e.message}")
    package = json.loads((universe / "package.json").read_text())
    for key in PACKAGE_V4_REQUIRED:
        if key not in package:
            problems.append(f"package.json: '{key}' is missing")
    if package.get("packagingVersion") != "4.0":
        problems.append("package.json: packagingVersion is not 4.0")
    if any(not isinstance(t, str) or not t or any(c.isspace() for c in t) for t in package.get("tags", [])):
        problems.append("package.json: tags must be non-empty words without spaces")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"checked {len(files)} JSON files")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "render":
        options = json.loads(pathlib.Path(argv[3]).read_text()) if len(argv) > 3 else None
        try:
            app = render(argv[2], options)
        except (ValueError, jsonschema.exceptions.ValidationError, pystache.context.KeyNotFoundError) as e:
            print(f"render: {e}", file=sys.stderr)
            return 1
        json.dump(app, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
