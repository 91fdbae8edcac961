-- The public face of the `tcr` module. The Rust host passes in `core`, the table of functions
-- implemented in Rust (signing, HTTP, regions, JSON); this file adds what is easier to read in
-- Lua: error values with fields and a readable tostring, and client objects bound to options.
local core = ...

local M = core

-- `file:line` of the function `level` frames up (1 = the caller of caller_location).
local caller_location = core.caller_location
core.caller_location = nil

---Metatable of error values raised by `tcr.call`.
local error_mt = {}
error_mt.__index = error_mt
error_mt.__name = "tcr.error"

function error_mt.__tostring(e)
  local text = string.format("%s: %s: %s", tostring(e.action), tostring(e.code), tostring(e.message))
  if e.request_id and e.request_id ~= "" then
    text = text .. " (request " .. e.request_id .. ")"
  end
  if e.where then
    text = e.where .. ": " .. text
  end
  return text
end

M.error_mt = error_mt

---Whether a value is an error raised by `tcr.call`.
function M.is_error(value)
  return getmetatable(value) == error_mt
end

-- Raise an error value, recording the line of the caller `level` frames above raise's caller.
local function raise(err, level)
  setmetatable(err, error_mt)
  err.where = caller_location(level + 1)
  error(err, level + 1)
end

local raw_call = core.raw_call
core.raw_call = nil

---Call an API action and return its `Response` table; raises a `tcr.error` on failure.
function M.call(action, params, opts)
  local ok, result = raw_call(action, params, opts)
  if not ok then
    raise(result, 2)
  end
  return result
end

local function merged(defaults, opts)
  local out = {}
  for k, v in pairs(defaults) do
    out[k] = v
  end
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("tcr.client: opts must be a table, got " .. type(opts), 3)
    end
    for k, v in pairs(opts) do
      out[k] = v
    end
  end
  return out
end

---A client bound to options (region, service, version, endpoint, ...).
function M.client(defaults)
  if defaults ~= nil and type(defaults) ~= "table" then
    error("tcr.client: options must be a table, got " .. type(defaults), 2)
  end
  defaults = merged(defaults or {}, nil)
  local client = { options = defaults }
  function client:call(action, params, opts)
    local ok, result = raw_call(action, params, merged(defaults, opts))
    if not ok then
      raise(result, 2)
    end
    return result
  end
  return client
end

return M
