//! The `tcr` module's functions implemented in Rust: `call` (as `raw_call`, wrapped by
//! `stdlib/tcr.lua` to raise error values), `regions`, `endpoint`, `region`, `sign`, `json`,
//! `log`, `args`, `sleep` and `null`. Lua-facing names are snake_case; action and parameter
//! names pass through unchanged so Tencent's documentation applies as written.

use std::sync::Arc;
use std::time::Duration;

use mlua::{Lua, Table, Value as LuaValue};

use super::convert::{to_lua, ToJson};
use super::{runtime_error, Runtime};
use crate::api::{catalog, client};
use crate::error::{DidYouMean, Error};
use crate::region::REGIONS;
use crate::settings::{parse_duration, CallOverrides};

/// Option names `tcr.call` accepts in its `opts` table.
const CALL_OPTIONS: &[&str] = &[
    "region",
    "service",
    "version",
    "endpoint",
    "timeout",
    "sign_method",
    "http_method",
    "language",
];

/// Build the `tcr` table.
pub fn create(lua: &Lua, runtime: Arc<Runtime>) -> mlua::Result<Table> {
    let core = lua.create_table()?;
    core.set("raw_call", raw_call(lua, runtime.clone())?)?;
    core.set("regions", lua.create_function(regions)?)?;
    core.set("caller_location", lua.create_function(caller_location)?)?;
    core.set("endpoint", endpoint(lua, runtime.clone())?)?;
    core.set("region", runtime.settings.region.clone())?;
    core.set("dry_run", runtime.is_dry_run())?;
    core.set("planned", planned(lua, runtime.clone())?)?;
    core.set("sign", sign(lua, runtime.clone())?)?;
    core.set("json", json(lua)?)?;
    core.set("log", log(lua)?)?;
    core.set("time", super::time::create(lua)?)?;
    core.set("regex", super::text::regex_module(lua)?)?;
    core.set("semver", super::text::semver_module(lua)?)?;
    core.set("map_protected", super::tasks::create(lua)?)?;
    core.set("paging_rule", lua.create_function(paging_rule)?)?;
    core.set("progress", lua.create_function(progress_line)?)?;
    core.set("null", LuaValue::NULL)?;
    core.set(
        "sleep",
        lua.create_async_function(|_, seconds: f64| async move {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(runtime_error(format!(
                    "tcr.sleep: seconds must be a non-negative number, got {seconds}"
                )));
            }
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Ok(())
        })?,
    )?;
    let args = lua.create_table()?;
    for (k, v) in &runtime.args {
        args.set(k.as_str(), v.as_str())?;
    }
    core.set("args", args)?;
    lua.load(include_str!("../../stdlib/tcr.lua"))
        .set_name("@stdlib/tcr.lua")
        .call::<Table>(core)
}

/// `raw_call(action, params?, opts?)` -> `true, response` or `false, error_table`.
fn raw_call(lua: &Lua, runtime: Arc<Runtime>) -> mlua::Result<mlua::Function> {
    lua.create_async_function(
        move |lua, (action, params, opts): (LuaValue, LuaValue, LuaValue)| {
            let runtime = runtime.clone();
            async move {
                let action_name = match &action {
                    LuaValue::String(s) => s.to_str().map(|s| s.to_string()).ok(),
                    _ => None,
                };
                let Some(action_name) = action_name.filter(|a| !a.is_empty()) else {
                    let problem = Error::InvalidParameter {
                        action: "tcr.call".into(),
                        path: "action".into(),
                        problem: format!(
                            "expected an action name string, got {}",
                            action.type_name()
                        ),
                    };
                    return Ok((false, LuaValue::Table(error_table(&lua, &problem)?)));
                };
                let prepared = prepare_call(&runtime, &action_name, &params, &opts);
                let result = match prepared {
                    Ok((json_params, call_opts)) => {
                        runtime.call(&action_name, &json_params, &call_opts).await
                    }
                    Err(e) => Err(e),
                };
                match result {
                    Ok(response) => Ok((true, to_lua(&lua, &response)?)),
                    Err(e) => Ok((false, LuaValue::Table(error_table(&lua, &e)?))),
                }
            }
        },
    )
}

/// Validate and convert the arguments of a call.
fn prepare_call(
    runtime: &Runtime,
    action: &str,
    params: &LuaValue,
    opts: &LuaValue,
) -> Result<(serde_json::Value, client::CallOptions), Error> {
    let mut overrides = parse_overrides(action, opts)?;
    if overrides.region.is_none() {
        overrides.region = Some(runtime.region());
    }
    let call_opts = runtime.settings.call_options(&overrides)?;
    let tcr_catalog = catalog::tcr();
    let is_tcr =
        call_opts.service == tcr_catalog.service && call_opts.version == tcr_catalog.version;
    if is_tcr && tcr_catalog.action(action).is_none() {
        return Err(Error::InvalidParameter {
            action: action.to_string(),
            path: "action".into(),
            problem: format!(
                "not an action of {} {}{}",
                tcr_catalog.service,
                tcr_catalog.version,
                DidYouMean::among(action, tcr_catalog.actions.keys().copied())
            ),
        });
    }
    let converter = ToJson {
        action,
        catalog: is_tcr.then_some(tcr_catalog),
    };
    let json_params = converter
        .params(params)
        .map_err(|e| Error::InvalidParameter {
            action: action.to_string(),
            path: e.path,
            problem: e.problem,
        })?;
    Ok((json_params, call_opts))
}

/// Read a call's `opts` table into overrides, refusing unknown names and wrong types.
fn parse_overrides(action: &str, opts: &LuaValue) -> Result<CallOverrides, Error> {
    let bad = |path: String, problem: String| Error::InvalidParameter {
        action: action.to_string(),
        path,
        problem,
    };
    let table = match opts {
        LuaValue::Nil => return Ok(CallOverrides::default()),
        LuaValue::Table(t) => t,
        other => {
            return Err(bad(
                "opts".into(),
                format!("expected a table, got {}", other.type_name()),
            ))
        }
    };
    let mut o = CallOverrides::default();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let (k, v) = pair.map_err(|e| bad("opts".into(), e.to_string()))?;
        let key = match &k {
            LuaValue::String(s) => s.to_string_lossy(),
            other => {
                return Err(bad(
                    "opts".into(),
                    format!("option names are strings, got {}", other.type_name()),
                ))
            }
        };
        let path = format!("opts.{key}");
        let text = || -> Result<String, Error> {
            match &v {
                LuaValue::String(s) => s
                    .to_str()
                    .map(|s| s.to_string())
                    .map_err(|_| bad(path.clone(), "string is not valid UTF-8".into())),
                other => Err(bad(
                    path.clone(),
                    format!("expected a string, got {}", other.type_name()),
                )),
            }
        };
        match key.as_str() {
            "region" => o.region = Some(text()?),
            "service" => o.service = Some(text()?),
            "version" => o.version = Some(text()?),
            "endpoint" => o.endpoint = Some(text()?),
            "language" => o.language = Some(text()?),
            "retries" => {
                o.retries = Some(match &v {
                    LuaValue::Integer(i) if *i >= 0 => *i as u32,
                    other => {
                        return Err(bad(
                            path,
                            format!(
                                "expected a whole number of retries, got {}",
                                describe(other)
                            ),
                        ))
                    }
                })
            }
            "retry_base" => {
                o.retry_base = Some(match &v {
                    LuaValue::Integer(i) if *i >= 0 => Duration::from_secs(*i as u64),
                    LuaValue::Number(n) if n.is_finite() && *n >= 0.0 => {
                        Duration::from_secs_f64(*n)
                    }
                    LuaValue::String(_) => {
                        parse_duration(&text()?).map_err(|e| bad(path.clone(), e))?
                    }
                    other => {
                        return Err(bad(
                            path,
                            format!(
                                "expected seconds or a duration like \"200ms\", got {}",
                                describe(other)
                            ),
                        ))
                    }
                })
            }
            "sign_method" => {
                o.sign_method = Some(text()?.parse().map_err(|e| bad(path.clone(), e))?)
            }
            "http_method" => {
                o.http_method = Some(text()?.parse().map_err(|e| bad(path.clone(), e))?)
            }
            "timeout" => {
                o.timeout = Some(match &v {
                    LuaValue::Integer(i) if *i > 0 => Duration::from_secs(*i as u64),
                    LuaValue::Number(n) if n.is_finite() && *n > 0.0 => Duration::from_secs_f64(*n),
                    LuaValue::String(_) => {
                        parse_duration(&text()?).map_err(|e| bad(path.clone(), e))?
                    }
                    other => {
                        return Err(bad(
                            path,
                            format!(
                                "expected seconds or a duration like \"30s\", got {}",
                                other.type_name()
                            ),
                        ))
                    }
                })
            }
            unknown => {
                return Err(bad(
                    path,
                    format!(
                        "unknown option{}",
                        DidYouMean::among(unknown, CALL_OPTIONS.iter().copied())
                    ),
                ))
            }
        }
    }
    Ok(o)
}

/// A value's type, with the value itself for numbers (`-1` says more than `integer`).
fn describe(v: &LuaValue) -> String {
    match v {
        LuaValue::Integer(i) => format!("{i}"),
        LuaValue::Number(n) => format!("{n}"),
        other => other.type_name().to_string(),
    }
}

/// The error value scripts see: `code`, `message`, `request_id`, `action`, `region`.
fn error_table(lua: &Lua, error: &Error) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("code", error.code())?;
    t.set("message", crate::redact::redact(&error.message()))?;
    match error {
        Error::Api {
            action,
            request_id,
            region,
            ..
        } => {
            t.set("action", action.as_str())?;
            t.set("request_id", request_id.as_str())?;
            t.set("region", region.as_str())?;
        }
        Error::InvalidParameter { action, .. }
        | Error::RequestTooLarge { action, .. }
        | Error::BadResponse { action, .. }
        | Error::ResponseTooLarge { action, .. }
        | Error::Transport { action, .. } => t.set("action", action.as_str())?,
        _ => t.set("action", "tcr.call")?,
    }
    Ok(t)
}

/// `file:line` of the Lua function `level` frames above the caller, or nil for C frames.
/// Lets error values carry the script line without exposing the `debug` library.
fn caller_location(lua: &Lua, level: usize) -> mlua::Result<Option<String>> {
    Ok(lua
        .inspect_stack(level, |d| {
            let line = d.current_line()?;
            let src = d.source().short_src?.to_string();
            Some(format!("{src}:{line}"))
        })
        .flatten())
}

/// `tcr.planned()` -> the calls a dry run held back: `{action =, params =, region =}`.
fn planned(lua: &Lua, runtime: Arc<Runtime>) -> mlua::Result<mlua::Function> {
    lua.create_function(move |lua, ()| {
        let list = lua.create_table()?;
        for call in runtime.planned() {
            let row = lua.create_table()?;
            row.set("action", call.action)?;
            row.set("params", to_lua(lua, &call.params)?)?;
            row.set("region", call.region)?;
            list.raw_push(row)?;
        }
        Ok(list)
    })
}

/// `core.paging_rule(action)` -> the action's row of the paging table, or nil.
fn paging_rule(lua: &Lua, action: String) -> mlua::Result<Option<Table>> {
    let Some(rule) = crate::api::paginate::rule(&action) else {
        return Ok(None);
    };
    let t = lua.create_table()?;
    t.set("style", rule.style.as_str())?;
    t.set("offset_param", rule.offset_param.as_str())?;
    t.set("size_param", rule.size_param.as_str())?;
    t.set("first", rule.first)?;
    t.set("max_size", rule.max_size)?;
    t.set("page_size", rule.preferred_size())?;
    t.set("list_field", rule.list_field.as_str())?;
    t.set("total_field", rule.total_field.as_deref())?;
    Ok(Some(t))
}

/// `tcr.regions()` -> list of `{region=, name=, endpoint=, financial=}`.
fn regions(lua: &Lua, (): ()) -> mlua::Result<Table> {
    let policy = crate::region::EndpointPolicy::default();
    let list = lua.create_table()?;
    for (i, r) in REGIONS.iter().enumerate() {
        let row = lua.create_table()?;
        row.set("region", r.name)?;
        row.set("name", r.display_name)?;
        row.set("endpoint", policy.regional_host("tcr", r.name))?;
        row.set("financial", r.financial)?;
        list.raw_set(i + 1, row)?;
    }
    Ok(list)
}

/// `tcr.endpoint(region?, service?)` -> the host a call with that region and service goes to.
fn endpoint(lua: &Lua, runtime: Arc<Runtime>) -> mlua::Result<mlua::Function> {
    lua.create_function(
        move |_, (region, service): (Option<String>, Option<String>)| {
            let settings = &runtime.settings;
            let service = service.unwrap_or_else(|| settings.service.clone());
            let region = region.unwrap_or_else(|| settings.region.clone());
            settings
                .policy
                .resolve(&service, &region, settings.endpoint.as_ref())
                .map(|e| e.host)
                .map_err(|e| runtime_error(format!("tcr.endpoint: {e}")))
        },
    )
}

/// `tcr.sign{action=, params=, ...opts, timestamp=?, include_token=?}` -> method, url, headers
/// and body of the request `tcr.call` would send, without sending it.
fn sign(lua: &Lua, runtime: Arc<Runtime>) -> mlua::Result<mlua::Function> {
    lua.create_async_function(move |lua, request: Table| {
        let runtime = runtime.clone();
        async move {
            let action: String = request
                .get::<Option<String>>("action")?
                .ok_or_else(|| runtime_error("tcr.sign: request.action is required"))?;
            let params: LuaValue = request.get("params")?;
            let timestamp: Option<i64> = request.get("timestamp")?;
            let include_token: bool = request
                .get::<Option<bool>>("include_token")?
                .unwrap_or(false);
            let opts = lua.create_table()?;
            for key in CALL_OPTIONS {
                opts.set(*key, request.get::<LuaValue>(*key)?)?;
            }
            let (json_params, call_opts) =
                prepare_call(&runtime, &action, &params, &LuaValue::Table(opts))
                    .map_err(|e| runtime_error(format!("tcr.sign: {e}")))?;
            let credentials = runtime
                .client
                .credentials()
                .await
                .map_err(|e| runtime_error(format!("tcr.sign: {e}")))?;
            let timestamp = timestamp.unwrap_or_else(|| chrono::Utc::now().timestamp());
            let prepared = client::prepare(
                &action,
                &json_params,
                &call_opts,
                &credentials,
                timestamp,
                rand::random(),
            )
            .map_err(|e| runtime_error(format!("tcr.sign: {e}")))?;
            let out = lua.create_table()?;
            out.set("method", prepared.method.as_str())?;
            out.set("url", prepared.url)?;
            out.set("body", lua.create_string(&prepared.body)?)?;
            let headers = lua.create_table()?;
            for (name, value) in prepared.headers {
                if name == "X-TC-Token" && !include_token {
                    continue;
                }
                headers.set(name, value)?;
            }
            out.set("headers", headers)?;
            Ok(out)
        }
    })
}

/// `tcr.json.encode(value, {pretty=bool}?)` and `tcr.json.decode(text)`.
fn json(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "encode",
        lua.create_function(|_, (value, opts): (LuaValue, Option<Table>)| {
            let pretty = match &opts {
                Some(o) => o.get::<Option<bool>>("pretty")?.unwrap_or(false),
                None => false,
            };
            let json =
                encode_any(&value).map_err(|e| runtime_error(format!("tcr.json.encode: {e}")))?;
            let text = if pretty {
                serde_json::to_string_pretty(&json)
            } else {
                serde_json::to_string(&json)
            };
            text.map_err(|e| runtime_error(format!("tcr.json.encode: {e}")))
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let value: serde_json::Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|e| runtime_error(format!("tcr.json.decode: {e}")))?;
            to_lua(lua, &value)
        })?,
    )?;
    Ok(t)
}

/// Encode any Lua value (scalars, lists, objects) as JSON, with the module's rules.
fn encode_any(value: &LuaValue) -> Result<serde_json::Value, String> {
    let converter = ToJson {
        action: "tcr.json.encode",
        catalog: None,
    };
    converter.value(value).map_err(|e| {
        if e.path == "(params)" {
            e.problem
        } else {
            format!("{}: {}", e.path, e.problem)
        }
    })
}

/// `tcr.log.debug/info/warn/error(msg, fields?)` to the host's log, redacted.
fn log(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for level in ["debug", "info", "warn", "error"] {
        let f = lua.create_function(move |_, (msg, fields): (LuaValue, LuaValue)| {
            let msg = match &msg {
                LuaValue::String(s) => s.to_string_lossy(),
                other => format!("{other:?}"),
            };
            let fields = match &fields {
                LuaValue::Nil => String::new(),
                v => encode_any(v)
                    .map(|j| j.to_string())
                    .unwrap_or_else(|e| format!("(unencodable: {e})")),
            };
            let msg = crate::redact::redact(&msg);
            let fields = crate::redact::redact(&fields);
            match level {
                "debug" => tracing::debug!(target: "script", fields = %fields, "{msg}"),
                "info" => tracing::info!(target: "script", fields = %fields, "{msg}"),
                "warn" => tracing::warn!(target: "script", fields = %fields, "{msg}"),
                _ => tracing::error!(target: "script", fields = %fields, "{msg}"),
            }
            Ok(())
        })?;
        t.set(level, f)?;
    }
    Ok(t)
}

/// A progress line shown while a long pagination runs (see `crate::progress`).
struct ProgressLine(indicatif::ProgressBar);

impl mlua::UserData for ProgressLine {
    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("update", |_, line, (done, total): (u64, Option<u64>)| {
            if let Some(total) = total {
                line.0.set_length(total.max(done));
            }
            line.0.set_position(done);
            Ok(())
        });
        methods.add_method("finish", |_, line, ()| {
            line.0.finish_and_clear();
            Ok(())
        });
    }
}

/// `core.progress(label, total?)` -> a progress line, or nil when progress is off.
fn progress_line(
    _: &Lua,
    (label, total): (String, Option<u64>),
) -> mlua::Result<Option<ProgressLine>> {
    Ok(crate::progress::bar(&label, total).map(ProgressLine))
}
