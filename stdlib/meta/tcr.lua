---@meta tcr
-- Editor stubs for the `tcr` module that tcrl gives every script (global `tcr`, or
-- `require("tcr")`). Functions are implemented in Rust and in stdlib/tcr.lua; a test checks
-- that every name here exists at run time and the other way round.

---@class tcr.CallOpts
---@field region? string Region of the call (default: `tcr.region`).
---@field service? string Service (default "tcr"); another service needs `version` too.
---@field version? string API version (default "2019-09-24").
---@field endpoint? string HOST[:PORT], with an optional http:// for loopback hosts.
---@field timeout? number|string Seconds or a duration like "30s".
---@field sign_method? "TC3-HMAC-SHA256"|"HmacSHA256"|"HmacSHA1"
---@field http_method? "POST"|"GET"
---@field language? "zh-CN"|"en-US"
---@field retries? integer Retries of a failure that is safe to repeat (default 4).
---@field retry_base? number|string Base delay of the exponential backoff (default "200ms").

---@class tcr.PagingOpts: tcr.CallOpts
---@field page_size? integer Items per request (default: the action's documented maximum).
---@field max_items? integer Stop after this many items (tcr.paginate).
---@field paging? tcr.PagingRule For actions the paging table does not know.

---@class tcr.PagingRule
---@field style "page_number"|"item_offset" Offset is a page number (from `first`, 1) or an item index (from 0).
---@field offset_param string e.g. "Offset" or "Page".
---@field size_param string e.g. "Limit" or "PageSize".
---@field list_field string Dotted path of the items, e.g. "Data.TagInfo".
---@field total_field? string Dotted path of the total count.
---@field first? integer
---@field max_size? integer

---@class tcr.MapOpts
---@field concurrency? integer Items in flight at once (default 8).
---@field fail_fast? boolean Stop at the first failure and raise an error listing failures.

---@class tcr.MapFailure
---@field index integer Position of the item in the input list.
---@field item any
---@field error any The error value (a tcr.Error for API failures).

---@class tcr.Error
---@field code string Tencent's error code, or "Client.*" for local failures.
---@field message string
---@field request_id? string
---@field action string
---@field region? string
---@field where? string file:line of the call.

---@class tcr.Region
---@field region string e.g. "ap-guangzhou".
---@field name string e.g. "South China (Guangzhou)".
---@field endpoint string Regional host.
---@field financial boolean

---@class tcr.SignedRequest
---@field method string
---@field url string
---@field headers table<string, string> Authorization included; X-TC-Token only with include_token.
---@field body string

---@class tcr.PlannedCall
---@field action string
---@field params table
---@field region string

---@class tcr
tcr = {}

---The default region of calls.
---@type string
tcr.region = "ap-guangzhou"

---True when the run was started with --dry-run: mutating calls are recorded, not sent.
---@type boolean
tcr.dry_run = false

---Values given with `--arg KEY=VALUE` (strings).
---@type table<string, string>
tcr.args = {}

---JSON null, as found in responses and accepted in parameters.
---@type lightuserdata
tcr.null = nil

---Call any API action; returns its Response table (RequestId included) or raises a tcr.Error.
---@param action string e.g. "DescribeRepositories"
---@param params? table Parameters, named as in Tencent's documentation.
---@param opts? tcr.CallOpts
---@return table response
function tcr.call(action, params, opts) end

---A client bound to options; `client:call(action, params, opts?)`.
---@param opts tcr.CallOpts
---@return {options: tcr.CallOpts, call: fun(self, action: string, params?: table, opts?: tcr.CallOpts): table}
function tcr.client(opts) end

---Whether a value is an error raised by tcr.call.
---@param value any
---@return boolean
function tcr.is_error(value) end

---Every region: {region =, name =, endpoint =, financial =}.
---@return tcr.Region[]
function tcr.regions() end

---The host a call with this region and service goes to.
---@param region? string
---@param service? string
---@return string host
function tcr.endpoint(region, service) end

---The request tcr.call would send, signed, without sending it.
---@param request {action: string, params?: table, timestamp?: integer, include_token?: boolean}|tcr.CallOpts
---@return tcr.SignedRequest
function tcr.sign(request) end

---Sleep without blocking other tasks.
---@param seconds number
function tcr.sleep(seconds) end

---Iterate over whole responses, page by page.
---@param action string
---@param params? table
---@param opts? tcr.PagingOpts
---@return fun(): table? iterator
function tcr.pages(action, params, opts) end

---Iterate over the items of every page.
---@param action string
---@param params? table
---@param opts? tcr.PagingOpts
---@return fun(): any iterator
function tcr.paginate(action, params, opts) end

---Every item of every page, as one list.
---@param action string
---@param params? table
---@param opts? tcr.PagingOpts
---@return any[]
function tcr.collect(action, params, opts) end

---Run fn(item) for every item, several in flight at once; results keep the input order.
---@param list any[]
---@param fn fun(item: any): any
---@param opts? tcr.MapOpts
---@return any[] results, tcr.MapFailure[] failures
function tcr.map(list, fn, opts) end

---Run a fixed set of functions concurrently.
---@param fns (fun(): any)[]
---@param opts? tcr.MapOpts
---@return any[] results, tcr.MapFailure[] failures
function tcr.parallel(fns, opts) end

---@class tcr.InspectOpts
---@field depth? integer Nesting shown before "{...}" (default 6).
---@field max_items? integer Array items and fields shown per table (default 20).
---@field max_string? integer Characters shown of a string (default 200).
---@field indent? string Default two spaces.

---A readable rendering of any value (the REPL's printer).
---@param value any
---@param opts? tcr.InspectOpts
---@return string
function tcr.inspect(value, opts) end

---The calls a dry run held back, in order.
---@return tcr.PlannedCall[]
function tcr.planned() end

tcr.json = {}

---@param value any
---@param opts? {pretty: boolean}
---@return string
function tcr.json.encode(value, opts) end

---@param text string
---@return any
function tcr.json.decode(text) end

tcr.log = {}
---@param message string
---@param fields? table
function tcr.log.debug(message, fields) end
---@param message string
---@param fields? table
function tcr.log.info(message, fields) end
---@param message string
---@param fields? table
function tcr.log.warn(message, fields) end
---@param message string
---@param fields? table
function tcr.log.error(message, fields) end

tcr.time = {}

---Any timestamp format TCR returns, as Unix seconds (UTC).
---@param text string
---@return integer
function tcr.time.parse(text) end

---Seconds since a TCR timestamp.
---@param text string
---@return integer
function tcr.time.age(text) end

---Seconds in a duration like "30d", "12h", "2w", "500ms".
---@param text string
---@return number
function tcr.time.duration(text) end

---Current Unix time in seconds.
---@return integer
function tcr.time.now() end

---"YYYY-MM-DD HH:MM:SS" (UTC) of Unix seconds.
---@param seconds integer
---@return string
function tcr.time.format(seconds) end

tcr.regex = {}

---Whether the regular expression (Rust regex syntax) matches anywhere in text.
---@param pattern string
---@param text string
---@return boolean
function tcr.regex.is_match(pattern, text) end

---Whether the regular expression matches the whole text.
---@param pattern string
---@param text string
---@return boolean
function tcr.regex.full_match(pattern, text) end

---Captures of the first match (or the whole match when there are no groups), like string.match.
---@param pattern string
---@param text string
---@return string|nil ...
function tcr.regex.match(pattern, text) end

tcr.semver = {}

---A version tag ("v1.2.3-rc.1") as {major, minor, patch, prerelease, build}, or nil.
---@param text string
---@return {major: integer, minor: integer, patch: integer, prerelease: string?, build: string?}|nil
function tcr.semver.parse(text) end

---Compare two versions by semver precedence: -1, 0 or 1.
---@param a string
---@param b string
---@return integer
function tcr.semver.compare(a, b) end

return tcr
