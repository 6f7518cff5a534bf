-- Trusted setup of one script run. Runs once, on the main Lua thread, before any script code.
--
-- It receives the host's Python callbacks (`host`) and options, captures everything it needs in
-- locals, builds the environment a script sees (`env`), and returns the kernel: the functions the
-- Python driver and the global adapters use. Nothing here is reachable from a script except the
-- functions placed in `env`; Python callables stay in upvalues of those functions, and the `debug`
-- library stays here (scripts never see it).
local host, opts = ...

local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_status, co_running, co_isyieldable = coroutine.status, coroutine.running, coroutine.isyieldable
local co_close = coroutine.close
local sethook, getinfo = debug.sethook, debug.getinfo
local real_pcall, real_error, real_load = pcall, error, load
local type, select, tostring, tonumber, next = type, select, tostring, tonumber, next
local rawget, rawset, rawequal, rawlen = rawget, rawset, rawequal, rawlen
local setmetatable, getmetatable = setmetatable, getmetatable
local pairs, ipairs, assert = pairs, ipairs, assert
local pack, unpack, concat, tinsert = table.pack, table.unpack, table.concat, table.insert
local str_rep, str_byte, str_sub, str_find, str_format = string.rep, string.byte, string.sub, string.find, string.format
local str_match, str_gmatch, str_gsub = string.match, string.gmatch, string.gsub
local tbl_move, tbl_sort = table.move, table.sort
local math_type, tointeger, math_log = math.type, math.tointeger, math.log
local gc = collectgarbage

local py_tick, py_write, py_exit = host.tick, host.write, host.exit
local py_getenv, py_find_module, py_spawn = host.getenv, host.find_module, host.spawn
local py_pattern_engine = host.pattern_engine

local HOOK_COUNT = opts.hook_count
local MIN_HOOK_COUNT = opts.min_hook_count
local HOOK_MEMORY_KB = opts.hook_memory_kb
local WORK_TICK = opts.work_tick
local MAX_STRING = opts.max_string_bytes
local MAX_ITEMS = opts.max_table_items
local MEMORY_MSG = "not enough memory"
local MEMORY_LIMIT_MSG = opts.memory_message
local MEMORY_CEILING_KB = opts.memory_ceiling_kb
local PATTERN_BUDGET = opts.pattern_budget
local MAX_ARGS = opts.max_args
local MAX_UNPACK = opts.max_unpack
local MAX_TASKS = opts.max_tasks
local SORT_IN_C = opts.sort_in_c
local MAX_ERROR = opts.max_error_bytes

-- The private tag of scheduler requests: a yield carrying it travels out to the Python driver.
local YIELD = setmetatable({}, { __metatable = false })

---------------------------------------------------------------------------------------------
-- Limits. Once a limit trips it stays tripped: every protected call re-raises it, and the
-- CPU hook raises it again at its next tick, so no pcall loop can outlive it.
---------------------------------------------------------------------------------------------
local tripped, tripped_kind = nil, nil

local function trip(kind, message)
  if tripped == nil then
    tripped, tripped_kind = message, kind
  end
  real_error(tripped, 0)
end

-- Instructions between two checks. One instruction on big values (comparing or concatenating
-- strings of megabytes) costs far more than a small one, so the more memory the script holds,
-- the more often the hook runs: its slowest stretch between two checks stays about the same.
local function hook_count()
  local kb = gc("count")
  if kb <= HOOK_MEMORY_KB then
    return HOOK_COUNT
  end
  local count = HOOK_COUNT * HOOK_MEMORY_KB // kb
  return count < MIN_HOOK_COUNT and MIN_HOOK_COUNT or count
end

local hook

-- The check itself: also called directly by library functions after work the hook cannot see.
-- What the clock's answers mean (see LimitClock.tick).
local STOPS = {
  cpu = { "timeout", opts.cpu_message },
  wall = { "timeout", opts.wall_message },
  cancelled = { "cancelled", "cancelled" },
  interrupted = { "cancelled", "interrupted" },
}

local function check_limits()
  if tripped ~= nil then
    real_error(tripped, 0)
  end
  local stop = py_tick()
  if stop then
    local why = STOPS[stop]
    trip(why[1], why[2])
  end
end

function hook()
  check_limits()
  sethook(co_running(), hook, "", hook_count())
end

-- Work done inside C library calls, in nanoseconds (estimated): the limits are checked every
-- WORK_TICK of it, since the instruction count does not see it.
local work = 0
local function charge(units)
  work = work + units
  if work >= WORK_TICK then
    work = 0
    check_limits()
  end
end

-- After any protected call (pcall, xpcall, coroutine.resume): re-raise a tripped limit, and turn
-- an allocation failure into the sticky memory limit.
local function check(ok, ...)
  if tripped ~= nil then
    real_error(tripped, 0)
  end
  if not ok and rawequal((...), MEMORY_MSG) then
    trip("memory", MEMORY_LIMIT_MSG)
  end
  return ok, ...
end

local function hooked(co)
  sethook(co, hook, "", hook_count())
  return co
end

-- Each garbage collection cycle, check the limits at the next instruction: a loop that builds
-- big values (`s .. s`, string.upper of megabytes) runs the collector often but few instructions.
-- The sentinel is the host's own object; scripts cannot set finalizers (see setmetatable).
local stepping = false
local sentinel_mt = {}
sentinel_mt.__gc = function()
  if stepping then
    local co, main = co_running()
    if not main then
      sethook(co, hook, "", 1)
    end
  end
  setmetatable({}, sentinel_mt)
end
setmetatable({}, sentinel_mt)

-- A host call reported a limit (`kind`): it ends the run like one tripped here.
local function host_limit(kind, message)
  if kind == "memory" then
    trip("memory", MEMORY_LIMIT_MSG)
  end
  trip(kind, message)
end

-- Before a call into the host: the memory the host may need for its answer must be free (an
-- allocation failure inside lupa's conversions cannot be recovered), and the arguments few.
local function enough_memory()
  if gc("count") > MEMORY_CEILING_KB then
    gc("collect")
    if gc("count") > MEMORY_CEILING_KB then
      trip("memory", MEMORY_LIMIT_MSG)
    end
  end
end

---------------------------------------------------------------------------------------------
-- Errors raised by host functions keep their stable kind first ("ToolNotFound: ..."), so pcall
-- users can match on it; the script position is remembered and added if the error ends the run.
---------------------------------------------------------------------------------------------
local last_message, last_where = nil, nil

-- The nearest frame of the script's own code at or above `level`: host code (this prelude, the
-- adapter files named "=llmspell/...", C functions) is skipped, so errors point at the script.
local function script_frame(level)
  while true do
    local info = getinfo(level + 1, "Sl")
    if info == nil then
      return nil
    end
    local source = info.source
    if info.what ~= "C" and source ~= "<python>" and str_sub(source, 1, 10) ~= "=llmspell/" then
      return info
    end
    level = level + 1
  end
end

local function raise(message, level)
  local info = script_frame((level or 2) + 1)
  local positioned = type(message) == "string" and str_find(message, "^[^\n]-:%d+: ")
  if info and info.currentline and info.currentline > 0 and not positioned then
    last_message, last_where = message, info.short_src .. ":" .. info.currentline
  end
  real_error(message, 0)
end

local function capped(message)
  local n = #message
  if n > MAX_ERROR then -- the marker fits in the limit too
    return str_sub(message, 1, MAX_ERROR - 64) .. "\n[error message truncated: " .. n .. " bytes]"
  end
  return message
end

local function describe_error(err)
  local t = type(err)
  if t == "string" then
    if rawequal(err, last_message) and last_where then
      return capped(last_where .. ": " .. err)
    end
    return capped(err)
  elseif t == "number" then
    return tostring(err)
  end
  return "(error object is a " .. t .. " value)"
end

---------------------------------------------------------------------------------------------
-- The scheduler side: tasks are coroutines the Python driver resumes.
---------------------------------------------------------------------------------------------
-- Tasks are known to Python by number only: coroutine objects never cross the boundary.
local tasks = setmetatable({}, { __mode = "k" })
local task_by_id = {}
local last_task_id = 0
local live_tasks = 0

local function new_task(fn)
  local co = hooked(co_create(fn))
  last_task_id = last_task_id + 1
  tasks[co] = last_task_id
  task_by_id[last_task_id] = co
  live_tasks = live_tasks + 1
  return last_task_id
end

local function end_task(id)
  task_by_id[id] = nil
  live_tasks = live_tasks - 1
end

local function step(id, ...)
  local co = task_by_id[id]
  stepping = true
  local r = pack(co_resume(co, ...))
  stepping = false
  if tripped ~= nil then
    end_task(id)
    return "error", tripped, tripped_kind
  end
  if r[1] then
    if rawequal(r[2], YIELD) and co_status(co) == "suspended" then
      return "yield", r[3]
    end
    end_task(id)
    if co_status(co) == "dead" then
      r[1] = nil
      return "done", r
    end
    return "error", "attempt to yield from outside a coroutine", "runtime"
  end
  end_task(id)
  if rawequal(r[2], MEMORY_MSG) then
    tripped, tripped_kind = MEMORY_LIMIT_MSG, "memory"
    return "error", tripped, tripped_kind
  end
  return "error", describe_error(r[2]), "runtime"
end

local function await(id)
  local ok, value, kind = co_yield(YIELD, id)
  if ok then
    return value
  end
  if kind ~= nil then
    host_limit(kind, value)
  end
  raise(value, 3)
end

local function waitable()
  if not co_isyieldable() then
    raise("RuntimeError: cannot wait here (inside a C function such as table.sort or string.gsub)", 3)
  end
end

local function too_many_arguments(name, n)
  raise("ValidationError: " .. name .. ": too many arguments (" .. n .. "; at most " .. MAX_ARGS .. ")", 3)
end

-- A host function that answers at once. The Python side returns (true, value), or
-- (false, message, kind) where `kind` is set when the call reached a limit of the run.
local function sync_fn(py, name)
  name = name or "host function"
  return function(...)
    local n = select("#", ...)
    if n > MAX_ARGS then
      too_many_arguments(name, n)
    end
    enough_memory()
    local ok, value, kind = py(...)
    if ok then
      return value
    end
    if kind ~= nil then
      host_limit(kind, value)
    end
    raise(value, 2)
  end
end

-- A host function that waits: Python starts an operation and returns its id; the coroutine yields
-- the id to the driver, which resumes it with the outcome.
local function async_fn(py, name)
  name = name or "host function"
  return function(...)
    waitable()
    local n = select("#", ...)
    if n > MAX_ARGS then
      too_many_arguments(name, n)
    end
    enough_memory()
    local ok, id, kind = py(...)
    if not ok then
      if kind ~= nil then
        host_limit(kind, id)
      end
      raise(id, 2)
    end
    local value = await(id) -- not a tail call: await's errors are positioned at the caller
    return value
  end
end

---------------------------------------------------------------------------------------------
-- Coroutines as scripts see them: a scheduler yield made inside a user coroutine travels out to
-- the driver and its answer travels back in.
---------------------------------------------------------------------------------------------
local function forward(co, ok, ...)
  if ok and rawequal((...), YIELD) and co_status(co) == "suspended" then
    return forward(co, co_resume(co, co_yield(YIELD, (select(2, ...)))))
  end
  return ok, ...
end

local function user_create(fn)
  if type(fn) ~= "function" then
    real_error("bad argument #1 to 'create' (function expected)", 2)
  end
  return hooked(co_create(fn))
end

local function user_resume(co, ...)
  if tasks[co] then
    return false, "cannot resume a scheduler task"
  end
  return check(forward(co, co_resume(co, ...)))
end

local function user_wrap(fn)
  if type(fn) ~= "function" then
    real_error("bad argument #1 to 'wrap' (function expected)", 2)
  end
  local co = hooked(co_create(fn))
  return function(...)
    local r = pack(user_resume(co, ...))
    if r[1] then
      return unpack(r, 2, r.n)
    end
    real_error(r[2], 0)
  end
end

local function user_running()
  local co = co_running()
  if tasks[co] then
    return co, true
  end
  return co, false
end

local function user_isyieldable()
  return co_isyieldable() and not tasks[co_running()]
end

local function user_close(co)
  if tasks[co] then
    return false, "cannot close a scheduler task"
  end
  return check(co_close(co))
end

---------------------------------------------------------------------------------------------
-- Base library replacements.
---------------------------------------------------------------------------------------------
local function safe_pcall(fn, ...)
  return check(real_pcall(fn, ...))
end

-- The message handler runs after the stack unwinds, inside the script's coroutine, so the CPU
-- hook covers it (Lua runs a real xpcall handler with hooks disabled).
local function safe_xpcall(fn, handler, ...)
  local r = pack(check(real_pcall(fn, ...)))
  if r[1] then
    return unpack(r, 1, r.n)
  end
  return false, select(2, check(real_pcall(handler, r[2])))
end

local function safe_setmetatable(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    raise("SandboxViolation: __gc metamethods are not allowed", 2)
  end
  return setmetatable(t, mt)
end

local function safe_collectgarbage(opt, ...)
  opt = opt or "collect"
  if opt == "collect" or opt == "count" or opt == "step" or opt == "isrunning" then
    return collectgarbage(opt, ...)
  end
  raise("SandboxViolation: collectgarbage('" .. tostring(opt) .. "') is not allowed", 2)
end

local env = {}

local function is_binary(chunk)
  return type(chunk) == "string" and str_byte(chunk, 1) == 27
end

-- load reports errors as results; running out of memory while compiling is the memory limit.
local function loaded(fn, err)
  if fn == nil and rawequal(err, MEMORY_MSG) then
    trip("memory", MEMORY_LIMIT_MSG)
  end
  return fn, err
end

local function safe_load(...)
  local chunk, chunkname, mode, chunk_env = ...
  if is_binary(chunk) then
    return nil, "SandboxViolation: binary chunks are not allowed"
  end
  if mode ~= nil and mode ~= "t" and mode ~= "bt" then
    return nil, "SandboxViolation: binary chunks are not allowed"
  end
  if type(chunk) ~= "string" and type(chunk) ~= "function" then
    real_error("bad argument #1 to 'load' (string expected)", 2)
  end
  if select("#", ...) < 4 then
    chunk_env = env
  end
  if type(chunk) == "string" then
    return loaded(real_load(chunk, chunkname or "=(load)", "t", chunk_env))
  end
  -- A reader function: its first piece tells a binary chunk, refused like any other.
  local reader, seen, binary = chunk, false, false
  local fn, err = real_load(function()
    local piece = reader()
    if not seen and type(piece) == "string" and piece ~= "" then
      seen = true
      if str_byte(piece, 1) == 27 then
        binary = true
        return nil
      end
    end
    return piece
  end, chunkname or "=(load)", "t", chunk_env)
  if binary then
    return nil, "SandboxViolation: binary chunks are not allowed"
  end
  return loaded(fn, err)
end

local function tostring_all(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do
    parts[i] = tostring((select(i, ...)))
  end
  return concat(parts, "\t")
end

local function emit(stream, text)
  local ok, message, kind = py_write(stream, text)
  if not ok then
    host_limit(kind or "output_limit", message)
  end
end

local function safe_print(...)
  emit("stdout", tostring_all(...) .. "\n")
end

local function write_values(stream, ...)
  local n = select("#", ...)
  for i = 1, n do
    local v = select(i, ...)
    local t = type(v)
    if t ~= "string" and t ~= "number" then
      real_error("bad argument #" .. i .. " to 'write' (string expected, got " .. t .. ")", 3)
    end
  end
  local parts = {}
  for i = 1, n do
    parts[i] = tostring((select(i, ...)))
  end
  emit(stream, concat(parts))
end

---------------------------------------------------------------------------------------------
-- Library calls that would run unbounded C work are capped (the CPU hook cannot see inside them).
---------------------------------------------------------------------------------------------
-- The sandbox's own functions are loaded without line information (see ScriptRun): an error a C
-- library function raises when called from here carries no position, as under pcall, instead
-- of pointing into the sandbox.
-- A C library function whose work (estimated by `measure` from its arguments, in nanoseconds)
-- is charged to the limits before it runs.
local function metered(fn, measure)
  return function(...)
    charge(measure(...))
    return fn(...)
  end
end

local function length(v)
  return type(v) == "string" and #v or 0
end

local function table_length(t)
  return type(t) == "table" and rawlen(t) or 0
end

local function safe_rep(s, n, sep)
  s = tostring(s)
  n = tonumber(n) or real_error("bad argument #2 to 'rep' (number expected)", 2)
  if n <= 0 then
    return ""
  end
  local unit = #s + (sep and #tostring(sep) or 0)
  if unit == 0 then
    return ""
  end
  if n * unit > MAX_STRING then
    raise("SandboxViolation: string.rep result of " .. str_format("%.0f", n * unit)
      .. " bytes exceeds the limit of " .. MAX_STRING .. " bytes", 2)
  end
  return str_rep(s, n, sep)
end

local function safe_move(a1, f, e, t, a2)
  if type(f) == "number" and type(e) == "number" then
    if e - f >= MAX_ITEMS then
      raise("SandboxViolation: table.move of " .. str_format("%.0f", e - f + 1)
        .. " elements exceeds the limit of " .. MAX_ITEMS, 2)
    end
    charge((e - f) * 10)
  end
  return tbl_move(a1, f, e, t, a2)
end

local function safe_unpack(t, i, j)
  local first = i == nil and 1 or i
  local last = j
  if last == nil and type(t) == "table" then
    last = #t
  end
  if type(first) == "number" and type(last) == "number" then
    if last - first >= MAX_UNPACK then
      raise("SandboxViolation: table.unpack of " .. str_format("%.0f", last - first + 1)
        .. " values exceeds the limit of " .. MAX_UNPACK, 2)
    end
    charge((last - first) * 10)
  end
  return unpack(t, first, last)
end

local function less_than(a, b)
  return a < b
end

-- Sorting a long array in C is invisible to the hook: there, Lua does the comparisons.
local function safe_sort(t, comp)
  local n = table_length(t)
  if comp == nil and n > SORT_IN_C then
    comp = less_than
  end
  if n > 1 then
    charge(n * math_log(n, 2) * 20)
  end
  return tbl_sort(t, comp)
end

---------------------------------------------------------------------------------------------
-- Pattern matching. Lua's matcher runs inside one C call, where a backtracking pattern can take
-- hours. A quick bound decides most calls; past it, the pattern engine (prelude/patterns.lua,
-- loaded on first need) bounds the call precisely and runs costly ones on a matcher written in
-- Lua, which the hook interrupts like any Lua code.
---------------------------------------------------------------------------------------------
local SPECIALS = "[%^%$%*%+%?%.%(%[%%%-]"
local STEP_NS = 15 -- one step of the C matcher, about

local engine_module
local function engine()
  if engine_module == nil then
    local ok, source, kind = py_pattern_engine()
    if not ok then
      host_limit(kind or "runtime", source)
    end
    engine_module = real_load(source, "=patterns", "t", _ENV)(PATTERN_BUDGET, charge)
  end
  return engine_module
end

-- The engine's own errors ("malformed pattern ...") are raised at the script's line.
local function engine_relay(ok, ...)
  if ok then
    return ...
  end
  local err = ...
  if tripped == nil then
    if rawequal(err, MEMORY_MSG) then
      trip("memory", MEMORY_LIMIT_MSG)
    elseif getmetatable(err) == engine_module.Failure then
      real_error(err.message, 2)
    elseif type(err) == "string" and not str_find(err, "^[^\n]-:%d+: ") then
      real_error(err, 2)
    end
  end
  real_error(err, 0)
end

local function run_engine(fn, ...)
  return engine_relay(real_pcall(fn, ...))
end

-- An upper bound of the C matcher's steps: every quantifier, %b and back reference may multiply
-- the work by the subject's length (the engine refines this). `plain`: a search for the pattern
-- as it is (string.find with `plain`, or with a pattern without special characters).
local function quick_cost(n, p, plain)
  local m = #p
  if plain then
    return (n + 1) * (1 + m / 256)
  end
  local q = 0
  if str_find(p, "[%*%+%-%?%%]") then
    q = select(2, str_gsub(p, "[%*%+%-%?]", "")) + select(2, str_gsub(p, "%%[bf0-9]", ""))
  end
  local width = str_find(p, "[", 1, true) and m or 1
  return (n + 1) ^ (q + 1) * (m + 2) * width
end

-- The fast path: per pattern, the longest subject on which any call stays CHEAP (then the C
-- function is called at once, and each call is charged CHEAP). Bounded: scripts may build
-- patterns at will.
local CHEAP = 5000
local CHEAP_NS = CHEAP * STEP_NS
local cheap_length, cheap_count = {}, 0

local function learn(p)
  if cheap_length[p] ~= nil then
    return
  end
  local n = 0
  while n < 1e6 and quick_cost(n * 2 + 1, p, false) <= CHEAP do
    n = n * 2 + 1
  end
  if cheap_count >= 512 then
    cheap_length, cheap_count = {}, 0
  end
  cheap_length[p], cheap_count = n, cheap_count + 1
end

local function cheap(s, p)
  local n = cheap_length[p]
  if n and #s <= n then
    work = work + CHEAP_NS
    if work >= WORK_TICK then
      work = 0
      check_limits()
    end
    return true
  end
  return false
end

local function integer_arg(v, default)
  if v == nil then
    return default
  end
  if type(v) == "string" then
    v = tonumber(v)
  end
  return type(v) == "number" and tointeger(v) or nil
end

local function string_arg(v)
  if type(v) == "number" then
    return tostring(v)
  end
  return v
end

-- string.find's and string.match's start (posrelatI in lstrlib.c).
local function start_of(init, n)
  if init > 0 then
    return init
  elseif init == 0 or init < -n then
    return 1
  end
  return n + init + 1
end

local function safe_find(s, p, init, plain)
  if type(s) == "string" and type(p) == "string" then
    if plain then
      if #s <= CHEAP and #p <= 256 then
        return str_find(s, p, init, plain)
      end
    elseif cheap(s, p) then
      return str_find(s, p, init, plain)
    end
  end
  local subject, pat, start = string_arg(s), string_arg(p), integer_arg(init, 1)
  if type(subject) ~= "string" or type(pat) ~= "string" or start == nil then
    return str_find(s, p, init, plain) -- raises the argument error
  end
  if not plain then
    learn(pat)
  end
  local n = #subject
  start = start_of(start, n)
  if start > n + 1 then
    return nil
  end
  local cost = quick_cost(n - start + 1, pat, plain or not str_find(pat, SPECIALS))
  if cost <= PATTERN_BUDGET then
    charge(cost * STEP_NS)
    return str_find(subject, pat, start, plain)
  end
  return run_engine(engine().find, subject, pat, start, plain)
end

local function safe_match(s, p, init)
  if type(s) == "string" and type(p) == "string" and cheap(s, p) then
    return str_match(s, p, init)
  end
  local subject, pat, start = string_arg(s), string_arg(p), integer_arg(init, 1)
  if type(subject) ~= "string" or type(pat) ~= "string" or start == nil then
    return str_match(s, p, init)
  end
  learn(pat)
  local n = #subject
  start = start_of(start, n)
  if start > n + 1 then
    return nil
  end
  local cost = quick_cost(n - start + 1, pat, false)
  if cost <= PATTERN_BUDGET then
    charge(cost * STEP_NS)
    return str_match(subject, pat, start)
  end
  return run_engine(engine().match, subject, pat, start)
end

local function safe_gmatch(s, p, init)
  local subject, pat, start = string_arg(s), string_arg(p), integer_arg(init, 1)
  if type(subject) ~= "string" or type(pat) ~= "string" or start == nil then
    return str_gmatch(s, p, init)
  end
  local n = #subject
  start = start_of(start, n)
  if start > n + 1 then
    start = n + 2
  end
  local cost = quick_cost(n - start + 1, pat, false)
  if cost <= PATTERN_BUDGET then
    local iterate = str_gmatch(subject, pat, start)
    return function()
      charge(cost * STEP_NS)
      return iterate()
    end
  end
  local iterate = engine().gmatch(subject, pat, start)
  return function()
    return run_engine(iterate)
  end
end

local REPLACEMENTS = { string = true, number = true, table = true, ["function"] = true }

local function safe_gsub(s, p, repl, max_n)
  if type(s) == "string" and type(p) == "string" and cheap(s, p) then
    return str_gsub(s, p, repl, max_n)
  end
  local subject, pat = string_arg(s), string_arg(p)
  local limit = integer_arg(max_n, type(subject) == "string" and #subject + 1 or 0)
  if type(subject) ~= "string" or type(pat) ~= "string" or limit == nil or not REPLACEMENTS[type(repl)] then
    return str_gsub(s, p, repl, max_n)
  end
  learn(pat)
  local cost = quick_cost(#subject, pat, false)
  if cost <= PATTERN_BUDGET then
    charge(cost * STEP_NS)
    return str_gsub(subject, pat, repl, limit)
  end
  return run_engine(engine().gsub, subject, pat, repl, limit)
end

local function copy(t, except)
  local out = {}
  for k, v in pairs(t) do
    if not (except and except[k]) then
      out[k] = v
    end
  end
  return out
end

local sandbox_string = copy(string, { dump = true })
sandbox_string.rep = safe_rep
sandbox_string.find = safe_find
sandbox_string.match = safe_match
sandbox_string.gmatch = safe_gmatch
sandbox_string.gsub = safe_gsub
sandbox_string.byte = metered(string.byte, function(s, i, j)
  return type(j) == "number" and type(i) == "number" and (j - i) * 5 or 0
end)
local sandbox_table = copy(table)
sandbox_table.move = safe_move
sandbox_table.unpack = safe_unpack
sandbox_table.sort = safe_sort
-- Inserting or removing anywhere but at the end shifts the elements after it.
local tinsert_shifting = metered(tinsert, function(t, pos)
  return type(pos) == "number" and (table_length(t) - pos) * 2 or 0
end)
sandbox_table.insert = function(...)
  if select("#", ...) == 2 then -- appending
    return tinsert(...)
  end
  return tinsert_shifting(...)
end
local tremove = table.remove
local tremove_shifting = metered(tremove, function(t, pos)
  return type(pos) == "number" and (table_length(t) - pos) * 2 or 0
end)
sandbox_table.remove = function(t, pos)
  if pos == nil then -- the last element
    return tremove(t)
  end
  return tremove_shifting(t, pos)
end
local sandbox_utf8 = copy(utf8)
local function utf8_work(s)
  return length(s) * 2
end
sandbox_utf8.len = metered(utf8.len, utf8_work)
sandbox_utf8.offset = metered(utf8.offset, utf8_work)
sandbox_utf8.codepoint = metered(utf8.codepoint, utf8_work)
local function tonumber_work(v)
  return length(v) * 5
end
local safe_tonumber = metered(tonumber, tonumber_work)

-- The shared string metatable leads to a private copy of the sandbox's string library: never to
-- the real one, and not to `env.string` either, which the script may change (methods called on
-- strings, by the script and by the host's own Lua code, always mean the safe functions).
local string_mt = getmetatable("")
string_mt.__index = copy(sandbox_string)
string_mt.__metatable = false
-- Arithmetic on strings ("10" + 1) converts them in C first.
for _, event in ipairs({ "__add", "__sub", "__mul", "__div", "__mod", "__pow", "__unm", "__idiv" }) do
  local original = string_mt[event]
  if original then
    string_mt[event] = metered(original, function(a, b)
      return (length(a) + length(b)) * 5
    end)
  end
end

env._G = env
env._VERSION = _VERSION
env.assert = assert
env.error = real_error
env.ipairs = ipairs
env.next = next
env.pairs = pairs
env.pcall = safe_pcall
env.xpcall = safe_xpcall
env.print = safe_print
env.rawequal = metered(rawequal, function(a, b)
  return length(a) == length(b) and length(a) / 16 or 0
end)
env.rawget = rawget
env.rawlen = rawlen
env.rawset = rawset
env.select = select
env.setmetatable = safe_setmetatable
env.getmetatable = getmetatable
env.tonumber = safe_tonumber
env.tostring = tostring
env.type = type
env.load = safe_load
env.collectgarbage = safe_collectgarbage
env.string = sandbox_string
env.table = sandbox_table
env.math = copy(math)
env.utf8 = sandbox_utf8
env.coroutine = {
  create = user_create,
  resume = user_resume,
  wrap = user_wrap,
  yield = co_yield,
  status = co_status,
  running = user_running,
  isyieldable = user_isyieldable,
  close = user_close,
}

local exit_message = "exit"
env.os = {
  time = os.time,
  clock = os.clock,
  date = os.date,
  difftime = os.difftime,
  getenv = sync_fn(py_getenv, "os.getenv"),
  exit = function(code)
    local ok, message, kind = py_exit(code)
    if not ok then
      if kind ~= nil then
        host_limit(kind, message)
      end
      raise(message, 2)
    end
    trip("exit", exit_message)
  end,
}

local stdout = {}
function stdout.write(self, ...)
  if self ~= stdout then
    raise("ValidationError: use io.stdout:write(...), not io.stdout.write(...)", 2)
  end
  write_values("stdout", ...)
  return self
end
local stderr = {}
function stderr.write(self, ...)
  if self ~= stderr then
    raise("ValidationError: use io.stderr:write(...), not io.stderr.write(...)", 2)
  end
  write_values("stderr", ...)
  return self
end
env.io = {
  write = function(...)
    write_values("stdout", ...)
    return stdout
  end,
  stdout = stdout,
  stderr = stderr,
}

-- require: Lua source modules from the script's folder and the configured library paths only.
local loaded = {}
local preload = {}
env.package = { loaded = loaded, preload = preload }
env.require = function(name)
  if type(name) ~= "string" then
    real_error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
  end
  local module = loaded[name]
  if module ~= nil then
    return module
  end
  local loader = preload[name]
  if loader == nil then
    enough_memory()
    local ok, source, path = py_find_module(name)
    if not ok then
      if path ~= nil then
        host_limit(path, source)
      end
      raise(source, 2)
    end
    local fn, err = real_load(source, "@" .. path, "t", env)
    if not fn then
      real_error(err, 0)
    end
    loader = fn
  end
  module = loader(name)
  if module == nil then
    module = true
  end
  loaded[name] = module
  return module
end

---------------------------------------------------------------------------------------------
-- Classes for host objects: instances are tables whose methods check they were called with ':'.
---------------------------------------------------------------------------------------------
local function class(name)
  local methods = {}
  local mt = { __index = methods, __metatable = name, __name = name }
  local function is_instance(v)
    return type(v) == "table" and getmetatable(v) == name and rawget(v, "__class") == mt
  end
  local function method(method_name, fn)
    local m = function(self, ...)
      if not is_instance(self) then
        raise("ValidationError: " .. name .. ":" .. method_name .. " must be called with ':' "
          .. "(use obj:" .. method_name .. "(...), not obj." .. method_name .. "(...))", 2)
      end
      return fn(self, ...)
    end
    methods[method_name] = m
    return m
  end
  local function new(fields)
    fields = fields or {}
    rawset(fields, "__class", mt)
    return setmetatable(fields, mt)
  end
  return { methods = methods, method = method, new = new, is_instance = is_instance }
end

-- spawn(fn, ...) starts a concurrent script task; parallel({fn, ...}) waits for all of them.
local Task = class("Task")
local py_wait = host.wait
local py_parallel = host.parallel
local wait_task = async_fn(py_wait, "Task:wait")
Task.method("wait", function(self)
  local r = wait_task(rawget(self, "task_id"))
  return unpack(r, 2, r.n)
end)
Task.method("id", function(self)
  return rawget(self, "task_id")
end)

local function room_for_tasks(n)
  if live_tasks + n > MAX_TASKS then
    raise("SandboxViolation: more than " .. MAX_TASKS .. " tasks at once", 3)
  end
end

env.spawn = function(fn, ...)
  if type(fn) ~= "function" then
    raise("ValidationError: spawn expects a function as its first argument, got " .. type(fn), 2)
  end
  local n = select("#", ...)
  if n > MAX_ARGS then
    too_many_arguments("spawn", n)
  end
  room_for_tasks(1)
  enough_memory()
  local ok, id, kind = py_spawn(new_task(fn), pack(...))
  if not ok then
    host_limit(kind or "runtime", id)
  end
  return Task.new({ task_id = id })
end

local parallel_wait = async_fn(py_parallel, "parallel")
env.parallel = function(fns)
  if type(fns) ~= "table" then
    raise("ValidationError: parallel expects a table of functions, got " .. type(fns), 2)
  end
  local cos = {}
  local count = #fns
  room_for_tasks(count)
  for i = 1, count do
    if type(fns[i]) ~= "function" then
      raise("ValidationError: parallel: element " .. i .. " is a " .. type(fns[i]) .. ", not a function", 2)
    end
    cos[i] = new_task(fns[i])
  end
  local results = parallel_wait(cos)
  local out = {}
  for i = 1, #cos do
    out[i] = results[i][2]
  end
  return out
end

return {
  env = env,
  step = step,
  new_task = new_task,
  sync_fn = sync_fn,
  async_fn = async_fn,
  class = class,
  await = await,
  raise = raise,
  user_create = user_create,
  user_resume = user_resume,
  tripped = function()
    return tripped_kind, tripped
  end,
  trip_now = function(kind, message)
    if tripped == nil then
      tripped, tripped_kind = message, kind
    end
  end,
  load_script = function(source, chunkname)
    if is_binary(source) then
      return nil, "SandboxViolation: binary chunks are not allowed"
    end
    local fn, err = real_load(source, chunkname, "t", env)
    return fn, err
  end,
  check_syntax = function(source, chunkname)
    if is_binary(source) then
      return nil, "SandboxViolation: binary chunks are not allowed"
    end
    local fn, err = real_load(source, chunkname, "t", {})
    return fn, err
  end,
  YIELD = YIELD,
}
