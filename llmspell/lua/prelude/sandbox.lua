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
local tbl_move = table.move
local math_type = math.type

local py_tick, py_write, py_exit = host.tick, host.write, host.exit
local py_getenv, py_find_module, py_spawn = host.getenv, host.find_module, host.spawn

local HOOK_COUNT = opts.hook_count
local MAX_STRING = opts.max_string_bytes
local MAX_ITEMS = opts.max_table_items
local MEMORY_MSG = "not enough memory"
local MEMORY_LIMIT_MSG = opts.memory_message

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

local function hook()
  if tripped ~= nil then
    real_error(tripped, 0)
  end
  local kind, message = py_tick()
  if kind then
    trip(kind, message)
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
  sethook(co, hook, "", HOOK_COUNT)
  return co
end

---------------------------------------------------------------------------------------------
-- Errors raised by host functions keep their stable kind first ("ToolNotFound: ..."), so pcall
-- users can match on it; the script position is remembered and added if the error ends the run.
---------------------------------------------------------------------------------------------
local last_message, last_where = nil, nil

local function raise(message, level)
  local info = getinfo((level or 2) + 1, "Sl")
  local positioned = type(message) == "string" and str_find(message, "^[^\n]-:%d+: ")
  if info and info.currentline and info.currentline > 0 and not positioned then
    last_message, last_where = message, info.short_src .. ":" .. info.currentline
  end
  real_error(message, 0)
end

local function describe_error(err)
  local t = type(err)
  if t == "string" then
    if rawequal(err, last_message) and last_where then
      return last_where .. ": " .. err
    end
    return err
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

local function new_task(fn)
  local co = hooked(co_create(fn))
  last_task_id = last_task_id + 1
  tasks[co] = last_task_id
  task_by_id[last_task_id] = co
  return last_task_id
end

local function step(id, ...)
  local co = task_by_id[id]
  local r = pack(co_resume(co, ...))
  if tripped ~= nil then
    task_by_id[id] = nil
    return "error", tripped, tripped_kind
  end
  if r[1] then
    if rawequal(r[2], YIELD) and co_status(co) == "suspended" then
      return "yield", r[3]
    end
    task_by_id[id] = nil
    if co_status(co) == "dead" then
      r[1] = nil
      return "done", r
    end
    return "error", "attempt to yield from outside a coroutine", "runtime"
  end
  task_by_id[id] = nil
  if rawequal(r[2], MEMORY_MSG) then
    tripped, tripped_kind = MEMORY_LIMIT_MSG, "memory"
    return "error", tripped, tripped_kind
  end
  return "error", describe_error(r[2]), "runtime"
end

local function await(id)
  local ok, value = co_yield(YIELD, id)
  if ok then
    return value
  end
  raise(value, 3)
end

local function waitable()
  if not co_isyieldable() then
    raise("RuntimeError: cannot wait here (inside a C function such as table.sort or string.gsub)", 3)
  end
end

-- A host function that answers at once. The Python side returns (true, value) or (false, message).
local function sync_fn(py)
  return function(...)
    local ok, value = py(...)
    if ok then
      return value
    end
    raise(value, 2)
  end
end

-- A host function that waits: Python starts an operation and returns its id; the coroutine yields
-- the id to the driver, which resumes it with the outcome.
local function async_fn(py)
  return function(...)
    waitable()
    local ok, id = py(...)
    if not ok then
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
  return co_close(co)
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
  return real_load(chunk, chunkname or "=(load)", "t", chunk_env)
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
  local ok, message = py_write(stream, text)
  if not ok then
    trip("output_limit", message)
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
  if type(f) == "number" and type(e) == "number" and e - f >= MAX_ITEMS then
    raise("SandboxViolation: table.move of " .. str_format("%.0f", e - f + 1)
      .. " elements exceeds the limit of " .. MAX_ITEMS, 2)
  end
  return tbl_move(a1, f, e, t, a2)
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
local sandbox_table = copy(table)
sandbox_table.move = safe_move

-- The shared string metatable must lead to the sandbox copy, never to the real library.
local string_mt = getmetatable("")
string_mt.__index = sandbox_string
string_mt.__metatable = false

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
env.rawequal = rawequal
env.rawget = rawget
env.rawlen = rawlen
env.rawset = rawset
env.select = select
env.setmetatable = safe_setmetatable
env.getmetatable = getmetatable
env.tonumber = tonumber
env.tostring = tostring
env.type = type
env.load = safe_load
env.collectgarbage = safe_collectgarbage
env.string = sandbox_string
env.table = sandbox_table
env.math = copy(math)
env.utf8 = copy(utf8)
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
  getenv = sync_fn(py_getenv),
  exit = function(code)
    local ok, message = py_exit(code)
    if not ok then
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
    local ok, source, path = py_find_module(name)
    if not ok then
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
local wait_task = async_fn(py_wait)
Task.method("wait", function(self)
  local r = wait_task(rawget(self, "task_id"))
  return unpack(r, 2, r.n)
end)
Task.method("id", function(self)
  return rawget(self, "task_id")
end)

env.spawn = function(fn, ...)
  if type(fn) ~= "function" then
    raise("ValidationError: spawn expects a function as its first argument, got " .. type(fn), 2)
  end
  local id = py_spawn(new_task(fn), pack(...))
  return Task.new({ task_id = id })
end

local parallel_wait = async_fn(py_parallel)
env.parallel = function(fns)
  if type(fns) ~= "table" then
    raise("ValidationError: parallel expects a table of functions, got " .. type(fns), 2)
  end
  local cos = {}
  for i = 1, #fns do
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
