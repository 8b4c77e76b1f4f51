"""Fails when a dependency (normal or build, with every user-facing feature) of a published
package (the bindings, auth0-grants) declares a `rust-version` newer than the package's: the
claim in Cargo.toml would then be false for users.
Only the stable toolchain is installed, so the crate is not built with the old compiler;
clippy's `incompatible_msrv` lint (on in CI) holds this crate's own code to the version."""
import json, subprocess, sys
meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked",
    "--features", "auth0-client-grants/testing,auth0-client-grants/mock,auth0-client-grants/rustls"],
    capture_output=True, text=True, check=True).stdout)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
def v(s): return tuple(int(x) for x in s.split("."))[:3] + (0,) * (3 - len(s.split(".")))
failed = False
for name in ["auth0-client-grants", "auth0-grants"]:
    root = next(p["id"] for p in meta["packages"] if p["name"] == name)
    ours = packages[root]["rust_version"]
    seen, todo, worst = set(), [root], []
    while todo:
        node = nodes[todo.pop()]
        for dep in node["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds == {"dev"}:
                continue
            if dep["pkg"] not in seen:
                seen.add(dep["pkg"]); todo.append(dep["pkg"])
    for pid in seen:
        p = packages[pid]
        if p.get("rust_version") and v(p["rust_version"]) > v(ours):
            worst.append((p["rust_version"], p["name"], p["version"]))
    print(f"{name}: rust-version {ours}; {len(seen)} dependencies (normal and build, every user-facing feature)")
    for w in sorted(worst, reverse=True): print("  needs newer:", *w)
    failed = failed or bool(worst)
sys.exit(1 if failed else 0)
