//! The `---@meta` stubs name exactly what the runtime registers (both directions), and
//! `tcrl types` writes them into a script folder.

use std::collections::BTreeSet;

use crate::harness::{Env, Run};

fn stub_names(file: &str, prefix: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(format!("{}/stdlib/meta/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let name = if let Some(rest) = line.strip_prefix("function ") {
            rest.split('(').next()
        } else if line.starts_with(prefix) && line.contains(" = ") {
            line.split(" = ").next()
        } else {
            None
        };
        if let Some(name) = name.filter(|n| n.starts_with(prefix)) {
            names.insert(name.to_string());
        }
    }
    names
}

fn runtime_names(env: &Env) -> (BTreeSet<String>, BTreeSet<String>) {
    let path = env.script(
        "names.lua",
        r#"
        local function walk(prefix, t, depth)
          for k, v in pairs(t) do
            local name = prefix .. "." .. k
            print(name)
            if type(v) == "table" and depth > 0 and k ~= "args" then walk(name, v, depth - 1) end
          end
        end
        walk("tcr", tcr, 1)
        walk("retention", require("tcr.retention"), 0)
        "#,
    );
    let out = Run::of(env.tcrl().arg("run").arg(&path));
    let names: Vec<String> = out.ok().lines().map(str::to_string).collect();
    let tcr = names
        .iter()
        .filter(|n| n.starts_with("tcr."))
        .cloned()
        .collect();
    let retention = names
        .iter()
        .filter(|n| n.starts_with("retention."))
        .cloned()
        .collect();
    (tcr, retention)
}

#[test]
fn stubs_match_what_the_runtime_registers() {
    let env = Env::offline();
    let (tcr, retention) = runtime_names(&env);
    let mut stub_tcr = stub_names("tcr.lua", "tcr.");
    // Sub-tables are declared as `tcr.json = {}` and count as names too.
    stub_tcr.retain(|n| !n.is_empty());
    assert_eq!(tcr, stub_tcr, "left: runtime, right: stdlib/meta/tcr.lua");
    assert_eq!(
        retention,
        stub_names("tcr/retention.lua", "retention."),
        "left: runtime, right: stdlib/meta/tcr/retention.lua"
    );
}

#[test]
fn types_command_writes_stubs_and_luarc() {
    let env = Env::offline();
    let dir = env.dir.path().join("my-scripts");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Run::of(env.tcrl().args(["types", "--out"]).arg(&dir));
    assert_eq!(out.ok().lines().count(), 3);
    let luarc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".luarc.json")).unwrap()).unwrap();
    assert_eq!(luarc["workspace.library"][0], ".tcrl/types");
    let stub = std::fs::read_to_string(dir.join(".tcrl/types/tcr.lua")).unwrap();
    assert!(stub.starts_with("---@meta tcr"));
    assert!(dir.join(".tcrl/types/tcr/retention.lua").exists());
    let again = Run::of(env.tcrl().args(["types", "--out"]).arg(&dir));
    assert!(again.fails(2).contains("pass --force"), "{}", again.stderr);
    Run::of(env.tcrl().args(["types", "--force", "--out"]).arg(&dir)).ok();
}
