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

-- Host functions raise clean errors ------------------------------------------------------

-- The text of an error raised by a Rust function, without mlua's prefix and traceback.
local function clean(err)
  local text = tostring(err)
  text = text:match("^(.-)\nstack traceback:") or text
  return (text:gsub("^runtime error: ", ""))
end

-- Wrap a Rust function so its errors read like Lua's own and point at the caller's line.
local function lift(f)
  return function(...)
    local results = table.pack(pcall(f, ...))
    if results[1] then
      return table.unpack(results, 2, results.n)
    end
    error(clean(results[2]), 2)
  end
end

for _, name in ipairs({ "sleep", "sign", "endpoint" }) do
  M[name] = lift(M[name])
end
for _, group in ipairs({ "json", "time", "regex", "semver" }) do
  for name, f in pairs(M[group]) do
    M[group][name] = lift(f)
  end
end

-- Inspection -------------------------------------------------------------------------------

---@class tcr.InspectOpts
---@field depth? integer Nesting shown before "{...}" (default 6).
---@field max_items? integer Array items and fields shown per table (default 20).
---@field max_string? integer Characters shown of a string (default 200).
---@field indent? string Default two spaces.

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function inspect_value(value, opts, depth, indent, seen)
  local t = type(value)
  if value == M.null then
    return "null"
  elseif t == "string" then
    if #value > opts.max_string then
      return string.format("%q", value:sub(1, opts.max_string)) .. string.format(" ...(%d more bytes)", #value - opts.max_string)
    end
    return string.format("%q", value)
  elseif t ~= "table" then
    return tostring(value)
  end
  if getmetatable(value) == error_mt then
    return string.format("error %s: %s%s", tostring(value.code), tostring(value.message),
      (value.request_id and value.request_id ~= "") and (" (request " .. value.request_id .. ")") or "")
  end
  if seen[value] then
    return "<cycle>"
  end
  if depth >= opts.depth then
    return "{...}"
  end
  seen[value] = true
  local n = #value
  local keys = {}
  for k in pairs(value) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then
      return a < b
    end
    return type(a) < type(b)
  end)
  if n == 0 and #keys == 0 then
    seen[value] = nil
    return "{}"
  end
  local inner = indent .. opts.indent
  local lines = {}
  for i = 1, math.min(n, opts.max_items) do
    lines[#lines + 1] = inner .. inspect_value(value[i], opts, depth + 1, inner, seen)
  end
  if n > opts.max_items then
    lines[#lines + 1] = inner .. string.format("...(%d more items)", n - opts.max_items)
  end
  for i = 1, math.min(#keys, opts.max_items) do
    local k = keys[i]
    local name = is_identifier(k) and k or ("[" .. inspect_value(k, opts, depth + 1, inner, seen) .. "]")
    lines[#lines + 1] = inner .. name .. " = " .. inspect_value(value[k], opts, depth + 1, inner, seen)
  end
  if #keys > opts.max_items then
    lines[#lines + 1] = inner .. string.format("...(%d more fields)", #keys - opts.max_items)
  end
  seen[value] = nil
  return "{\n" .. table.concat(lines, ",\n") .. "\n" .. indent .. "}"
end

---A readable rendering of any value: nested tables indented, keys sorted, long lists and
---strings cut with a count, tcr.null as null, errors with code, message and request id.
function M.inspect(value, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("tcr.inspect: opts must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  local o = {
    depth = opts.depth or 6,
    max_items = opts.max_items or 20,
    max_string = opts.max_string or 200,
    indent = opts.indent or "  ",
  }
  return inspect_value(value, o, 0, "", {})
end

-- Pagination -------------------------------------------------------------------------------

local paging_rule = core.paging_rule
core.paging_rule = nil

-- Options that belong to the helpers, not to each call.
local PAGING_OPTIONS = { page_size = true, max_items = true, paging = true }

-- Value at a dotted path such as "Data.TagInfo".
local function at_path(value, path)
  for key in string.gmatch(path, "[^.]+") do
    if type(value) ~= "table" then
      return nil
    end
    value = value[key]
  end
  return value
end

local function check_string(fname, name, value, level)
  if type(value) ~= "string" or value == "" then
    error(string.format("%s: %s must be a non-empty string, got %s", fname, name, type(value)), level + 1)
  end
end

-- The paging rule for a call: opts.paging (for actions the table does not know) over the
-- table's row.
local function resolve_rule(fname, action, opts, level)
  local rule = paging_rule(action)
  local custom = opts.paging
  if custom ~= nil then
    if type(custom) ~= "table" then
      error(fname .. ": opts.paging must be a table", level + 1)
    end
    rule = rule or {}
    local merged = {}
    for k, v in pairs(rule) do
      merged[k] = v
    end
    for k, v in pairs(custom) do
      merged[k] = v
    end
    rule = merged
    rule.first = rule.first or (rule.style == "page_number" and 1 or 0)
    rule.page_size = rule.page_size or rule.max_size or 20
  end
  if rule == nil then
    error(string.format(
      "%s: %s is not in the paging table; pass opts.paging = {style = \"page_number\"|\"item_offset\", "
        .. "offset_param =, size_param =, list_field =, total_field =}", fname, action), level + 1)
  end
  if rule.style ~= "page_number" and rule.style ~= "item_offset" then
    error(fname .. ": paging.style must be \"page_number\" or \"item_offset\"", level + 1)
  end
  for _, field in ipairs({ "offset_param", "size_param", "list_field" }) do
    check_string(fname, "paging." .. field, rule[field], level + 1)
  end
  return rule
end

local progress_line = core.progress
core.progress = nil

-- An iterator over the pages of a call: each step returns `response, items`. The second
-- result, `close`, clears the progress line of an iteration abandoned early.
local function page_iterator(fname, action, params, opts, level)
  check_string(fname, "action", action, level + 1)
  if params ~= nil and type(params) ~= "table" then
    error(fname .. ": params must be a table, got " .. type(params), level + 1)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(fname .. ": opts must be a table, got " .. type(opts), level + 1)
  end
  params, opts = params or {}, opts or {}
  local rule = resolve_rule(fname, action, opts, level + 1)
  local size = opts.page_size or rule.page_size
  if math.type(size) ~= "integer" or size < 1 or (rule.max_size and size > rule.max_size) then
    error(string.format("%s: page_size must be a whole number from 1 to %s, got %s",
      fname, tostring(rule.max_size or "any"), tostring(size)), level + 1)
  end
  local call_opts = {}
  for k, v in pairs(opts) do
    if not PAGING_OPTIONS[k] then
      call_opts[k] = v
    end
  end
  local pages, seen, finished, previous = 0, 0, false, nil
  local progress -- shown from the second page on, when stderr is a terminal
  local function close()
    if progress then
      progress:finish()
      progress = nil
    end
  end
  return function()
    if finished then
      return nil
    end
    local request = {}
    for k, v in pairs(params) do
      request[k] = v
    end
    if rule.style == "page_number" then
      request[rule.offset_param] = rule.first + pages
    else
      request[rule.offset_param] = rule.first + seen
    end
    request[rule.size_param] = size
    local ok, response = raw_call(action, request, call_opts)
    if not ok then
      close()
      raise(response, 2)
    end
    local items = at_path(response, rule.list_field) or {}
    local total = rule.total_field and at_path(response, rule.total_field)
    local count = #items
    if count > 0 then
      -- A server that ignores the offset would return the same page forever.
      local signature = M.json.encode(items)
      if signature == previous then
        local e = { code = "Client.PagingLoop", action = action, message = string.format(
          "page %d repeats the previous page; the server ignores %s", pages + 1, rule.offset_param) }
        close()
        raise(e, 2)
      end
      previous = signature
    end
    pages, seen = pages + 1, seen + count
    local known_total = math.type(total) == "integer" and total or nil
    if pages == 1 and count > 0 and count < size and known_total and seen < known_total then
      -- The server serves fewer items per page than asked (a cap below page_size) while the
      -- total says more remain: page on with its size, or page numbers would skip items.
      M.log.warn(string.format("%s: the server answered %d items per page for page_size %d; "
        .. "paging on with pages of %d", action, count, size, count),
        { action = action, page_size = size, served = count })
      size = count
    end
    if count == 0 or count < size or (known_total and seen >= known_total) then
      finished = true
    end
    if not finished and progress == nil and pages == 1 then
      progress = progress_line(action, known_total)
    end
    if progress then
      progress:update(seen, known_total)
      if finished then
        close()
      end
    end
    if count == 0 and pages > 1 then
      return nil
    end
    return response, items
  end, close
end

---Iterate over whole responses, page by page.
function M.pages(action, params, opts)
  local next_page = page_iterator("tcr.pages", action, params, opts, 2)
  return function()
    return (next_page())
  end
end

---Iterate over the items of every page.
function M.paginate(action, params, opts)
  local next_page, close = page_iterator("tcr.paginate", action, params, opts, 2)
  local max_items = opts and opts.max_items
  if max_items ~= nil and (math.type(max_items) ~= "integer" or max_items < 0) then
    error("tcr.paginate: max_items must be a whole number, got " .. tostring(max_items), 2)
  end
  local items, index, yielded = {}, 0, 0
  return function()
    if max_items and yielded >= max_items then
      close()
      return nil
    end
    while index >= #items do
      local _, page_items = next_page()
      if page_items == nil then
        return nil
      end
      items, index = page_items, 0
    end
    index, yielded = index + 1, yielded + 1
    return items[index]
  end
end

---Every item of every page, as one list.
function M.collect(action, params, opts)
  local out = {}
  for item in M.paginate(action, params, opts) do
    out[#out + 1] = item
  end
  return out
end

-- Concurrency ------------------------------------------------------------------------------

local map_protected = core.map_protected
core.map_protected = nil

---Run `fn(item)` for every item with up to `opts.concurrency` (default 8) in flight.
---Returns `results, failures`; with `opts.fail_fast`, raises on the first failure.
function M.map(list, fn, opts)
  if type(list) ~= "table" then
    error("tcr.map: list must be a table, got " .. type(list), 2)
  end
  if type(fn) ~= "function" then
    error("tcr.map: fn must be a function, got " .. type(fn), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("tcr.map: opts must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  local concurrency = opts.concurrency or 8
  if math.type(concurrency) ~= "integer" or concurrency < 1 then
    error("tcr.map: opts.concurrency must be a whole number of at least 1, got " .. tostring(concurrency), 2)
  end
  local results, failures = map_protected(list, function(item)
    return pcall(fn, item)
  end, concurrency, opts.fail_fast and true or false)
  if opts.fail_fast and #failures > 0 then
    local parts = {}
    for _, f in ipairs(failures) do
      parts[#parts + 1] = string.format("[%d] %s", f.index, tostring(f.error))
    end
    error(string.format("tcr.map: %d item(s) failed: %s", #failures, table.concat(parts, "; ")), 2)
  end
  return results, failures
end

---Run a fixed set of functions concurrently; returns their results in order, and failures.
function M.parallel(fns, opts)
  if type(fns) ~= "table" then
    error("tcr.parallel: expected a list of functions, got " .. type(fns), 2)
  end
  for i, f in ipairs(fns) do
    if type(f) ~= "function" then
      error(string.format("tcr.parallel: item %d is a %s, not a function", i, type(f)), 2)
    end
  end
  opts = opts or {}
  return M.map(fns, function(f)
    return f()
  end, { concurrency = opts.concurrency or math.max(#fns, 1), fail_fast = opts.fail_fast })
end

return M
