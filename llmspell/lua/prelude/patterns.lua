-- Pattern matching the CPU limit can interrupt.
--
-- Lua's own matcher (string.find/match/gmatch/gsub) runs inside one C call: a pattern that
-- backtracks ("a*a*a*b", "(.-)%s*$" on a long subject) can take hours there, invisible to the
-- instruction hook. The sandbox asks `cost(...)` for an upper bound of the matcher's steps on the
-- call's subject; within the budget the C functions run, beyond it the functions below do the
-- same work in Lua, where every step is counted by the hook and the CPU limit holds.
--
-- The matcher is a port of lstrlib.c (Lua 5.4): same results, same captures, same errors.
-- Loaded once per run, in trusted mode, the first time a costly pattern is seen. `charge(ns)`
-- reports work done inside C calls to the sandbox's limits (the hook cannot see it).
local budget, charge = ...
local STEP_NS = 15 -- one step of the C matcher, about

local byte, sub, char = string.byte, string.sub, string.char
local real_find, real_match, real_gmatch, real_gsub = string.find, string.match, string.gmatch, string.gsub
local concat, unpack, pack = table.concat, table.unpack, table.pack
local type, tostring, error, pcall, ipairs = type, tostring, error, pcall, ipairs
local setmetatable = setmetatable
local huge = math.huge

local ESC, LBRACKET, RBRACKET, CARET, DOLLAR, DOT = 37, 91, 93, 94, 36, 46
local LPAREN, RPAREN, STAR, PLUS, MINUS, QUESTION = 40, 41, 42, 43, 45, 63
local MAXCAPTURES, MAXCCALLS = 32, 200
local CAP_UNFINISHED, CAP_POSITION = -1, -2

-- Errors of the matcher are tagged so the caller can raise them at the script's line.
local Failure = setmetatable({}, { __metatable = false })
local function fail(message)
  error(setmetatable({ message = message }, Failure), 0)
end

---------------------------------------------------------------------------------------------
-- Character classes, taken from the C matcher itself so that locale details agree.
---------------------------------------------------------------------------------------------
local ALL = {}
for c = 0, 255 do
  ALL[c + 1] = char(c)
end
ALL = concat(ALL)

local CLASS = {}
for _, letter in ipairs({ "a", "c", "d", "g", "l", "p", "s", "u", "w", "x" }) do
  local members, complement = {}, {}
  for c = 0, 255 do
    complement[c] = true
  end
  for i = 1, #ALL do
    local c = byte(ALL, i)
    if real_find(ALL, "^%" .. letter, i) then
      members[c] = true
      complement[c] = nil
    end
  end
  CLASS[byte(letter)] = members
  CLASS[byte(letter) - 32] = complement
end

local function match_class(c, cl)
  local set = CLASS[cl]
  if set then
    return set[c] == true
  end
  return cl == c
end

local function bracket(pat, c, p, ec)
  local sig = true
  if byte(pat, p + 1) == CARET then
    sig = false
    p = p + 1
  end
  p = p + 1
  while p < ec do
    local pc = byte(pat, p)
    if pc == ESC then
      p = p + 1
      if match_class(c, byte(pat, p)) then
        return sig
      end
    elseif byte(pat, p + 1) == MINUS and p + 2 < ec then
      if pc <= c and c <= byte(pat, p + 2) then
        return sig
      end
      p = p + 2
    elseif pc == c then
      return sig
    end
    p = p + 1
  end
  return not sig
end

-- Where the single-character class starting at `p` ends (the position after it).
local function class_end(pat, plen, p)
  local pc = byte(pat, p)
  p = p + 1
  if pc == ESC then
    if p > plen then
      fail("malformed pattern (ends with '%')")
    end
    return p + 1
  elseif pc == LBRACKET then
    if byte(pat, p) == CARET then
      p = p + 1
    end
    repeat
      if p > plen then
        fail("malformed pattern (missing ']')")
      end
      local c = byte(pat, p)
      p = p + 1
      if c == ESC and p <= plen then
        p = p + 1
      end
    until byte(pat, p) == RBRACKET
    return p + 1
  end
  return p
end

-- Does byte `c` belong to the class at pat[p, ep)?
local function member(pat, c, p, ep)
  local pc = byte(pat, p)
  if pc == DOT then
    return true
  elseif pc == ESC then
    return match_class(c, byte(pat, p + 1))
  elseif pc == LBRACKET then
    return bracket(pat, c, p, ep - 1)
  end
  return pc == c
end

---------------------------------------------------------------------------------------------
-- The matcher (lstrlib.c's match, with positions as 1-based indexes; `n + 1` is the end).
---------------------------------------------------------------------------------------------
local do_match

local function single(ms, s, p, ep)
  if s > ms.n then
    return false
  end
  return member(ms.pat, byte(ms.src, s), p, ep)
end

local function max_expand(ms, s, p, ep)
  local i = 0
  while single(ms, s + i, p, ep) do
    i = i + 1
  end
  while i >= 0 do
    local res = do_match(ms, s + i, ep + 1)
    if res then
      return res
    end
    i = i - 1
  end
  return nil
end

local function min_expand(ms, s, p, ep)
  while true do
    local res = do_match(ms, s, ep + 1)
    if res then
      return res
    elseif single(ms, s, p, ep) then
      s = s + 1
    else
      return nil
    end
  end
end

local function start_capture(ms, s, p, what)
  local level = ms.level + 1
  if level > MAXCAPTURES then
    fail("too many captures")
  end
  ms.cap_init[level], ms.cap_len[level] = s, what
  ms.level = level
  local res = do_match(ms, s, p)
  if not res then
    ms.level = ms.level - 1
  end
  return res
end

local function end_capture(ms, s, p)
  local l = ms.level
  while l >= 1 and ms.cap_len[l] ~= CAP_UNFINISHED do
    l = l - 1
  end
  if l < 1 then
    fail("invalid pattern capture")
  end
  ms.cap_len[l] = s - ms.cap_init[l]
  local res = do_match(ms, s, p)
  if not res then
    ms.cap_len[l] = CAP_UNFINISHED
  end
  return res
end

local function check_capture(ms, l)
  l = l - 48 -- '0' -> 0, '1' -> 1 ...
  if l < 1 or l > ms.level or ms.cap_len[l] == CAP_UNFINISHED then
    fail("invalid capture index %" .. l)
  end
  return l
end

local function match_capture(ms, s, l)
  l = check_capture(ms, l)
  local len = ms.cap_len[l]
  if len >= 0 and ms.n - s + 1 >= len then
    local init = ms.cap_init[l]
    if sub(ms.src, init, init + len - 1) == sub(ms.src, s, s + len - 1) then
      return s + len
    end
  end
  return nil
end

local function match_balance(ms, s, p)
  if p >= ms.plen then
    fail("malformed pattern (missing arguments to '%b')")
  end
  local src, n = ms.src, ms.n
  local b = byte(ms.pat, p)
  if (byte(src, s) or 0) ~= b then
    return nil
  end
  local e = byte(ms.pat, p + 1)
  local cont = 1
  s = s + 1
  while s <= n do
    local c = byte(src, s)
    if c == e then
      cont = cont - 1
      if cont == 0 then
        return s + 1
      end
    elseif c == b then
      cont = cont + 1
    end
    s = s + 1
  end
  return nil
end

function do_match(ms, s, p)
  if ms.depth == 0 then
    fail("pattern too complex")
  end
  ms.depth = ms.depth - 1
  local pat, plen = ms.pat, ms.plen
  while p <= plen do
    local pc = byte(pat, p)
    local default = false
    if pc == LPAREN then
      if byte(pat, p + 1) == RPAREN then
        s = start_capture(ms, s, p + 2, CAP_POSITION)
      else
        s = start_capture(ms, s, p + 1, CAP_UNFINISHED)
      end
      break
    elseif pc == RPAREN then
      s = end_capture(ms, s, p + 1)
      break
    elseif pc == DOLLAR and p == plen then
      if s ~= ms.n + 1 then
        s = nil
      end
      break
    elseif pc == ESC then
      local nc = byte(pat, p + 1)
      if nc == 98 then -- %b
        s = match_balance(ms, s, p + 2)
        if not s then
          break
        end
        p = p + 4
      elseif nc == 102 then -- %f
        p = p + 2
        if byte(pat, p) ~= LBRACKET then
          fail("missing '[' after '%f' in pattern")
        end
        local ep = class_end(pat, plen, p)
        local previous = s == 1 and 0 or byte(ms.src, s - 1)
        local current = byte(ms.src, s) or 0
        if bracket(pat, previous, p, ep - 1) or not bracket(pat, current, p, ep - 1) then
          s = nil
          break
        end
        p = ep
      elseif nc and nc >= 48 and nc <= 57 then -- %0-%9
        s = match_capture(ms, s, nc)
        if not s then
          break
        end
        p = p + 2
      else
        default = true
      end
    else
      default = true
    end
    if default then
      local ep = class_end(pat, plen, p)
      local q = byte(pat, ep)
      if not single(ms, s, p, ep) then
        if q == STAR or q == QUESTION or q == MINUS then
          p = ep + 1
        else
          s = nil
          break
        end
      elseif q == QUESTION then
        local res = do_match(ms, s + 1, ep + 1)
        if res then
          s = res
          break
        end
        p = ep + 1
      elseif q == PLUS then
        s = max_expand(ms, s + 1, p, ep)
        break
      elseif q == STAR then
        s = max_expand(ms, s, p, ep)
        break
      elseif q == MINUS then
        s = min_expand(ms, s, p, ep)
        break
      else
        s = s + 1
        p = ep
      end
    end
  end
  ms.depth = ms.depth + 1
  return s
end

---------------------------------------------------------------------------------------------
-- The cost of a call on the C matcher: an upper bound of its steps, from the pattern's shape
-- and the subject's length. The shape is analysed once per pattern.
---------------------------------------------------------------------------------------------
local ZERO_WIDTH, END_ANCHOR, FRONTIER, SCAN, SINGLE = 1, 2, 3, 4, 5
local NONE, OPTIONAL, STAR_Q, PLUS_Q, LAZY = 0, 1, 2, 3, 4
local TRAILING, UNGUARDED = 0, -1

local function disjoint(pat, a, ae, b, be)
  for c = 0, 255 do
    if member(pat, c, a, ae) and member(pat, c, b, be) then
      return false
    end
  end
  return true
end

-- The items of a pattern: kinds, quantifiers and class bounds, and whether its captures are
-- irregular (unbalanced, or too many: errors the matcher raises only when it gets there).
-- Raises a Failure if malformed.
local function parse(pat, p)
  local plen = #pat
  local kinds, quants, starts, ends = {}, {}, {}, {}
  local k, open, opened, irregular = 0, 0, 0, false
  while p <= plen do
    local pc = byte(pat, p)
    local nc = byte(pat, p + 1)
    k = k + 1
    quants[k] = NONE
    if pc == LPAREN then
      kinds[k] = ZERO_WIDTH
      opened = opened + 1
      if nc == RPAREN then
        p = p + 2
      else
        open, p = open + 1, p + 1
      end
    elseif pc == RPAREN then
      kinds[k], p = ZERO_WIDTH, p + 1
      open = open - 1
      irregular = irregular or open < 0
    elseif pc == DOLLAR and p == plen then
      kinds[k], p = END_ANCHOR, p + 1
    elseif pc == ESC and nc == 98 then
      if p + 3 > plen then
        fail("malformed pattern (missing arguments to '%b')")
      end
      kinds[k], p = SCAN, p + 4
    elseif pc == ESC and nc == 102 then
      if byte(pat, p + 2) ~= LBRACKET then
        fail("missing '[' after '%f' in pattern")
      end
      kinds[k], p = FRONTIER, class_end(pat, plen, p + 2)
    elseif pc == ESC and nc and nc >= 48 and nc <= 57 then
      kinds[k], p = SCAN, p + 2
    else
      local ep = class_end(pat, plen, p)
      local q = byte(pat, ep)
      kinds[k], starts[k], ends[k] = SINGLE, p, ep
      p = ep
      if q == QUESTION then
        quants[k], p = OPTIONAL, ep + 1
      elseif q == STAR then
        quants[k], p = STAR_Q, ep + 1
      elseif q == PLUS then
        quants[k], p = PLUS_Q, ep + 1
      elseif q == MINUS then
        quants[k], p = LAZY, ep + 1
      end
    end
  end
  return k, kinds, quants, starts, ends, irregular or open ~= 0 or opened > MAXCAPTURES
end

-- For each quantified item, how its backtracking behaves:
--   TRAILING: nothing after it can fail, so its first try succeeds (its scan is paid once per
--     match, by the characters the match consumes);
--   g > 0: "guarded": the next item that must match has a class disjoint from this one, so
--     each backtracking step fails after g cheap steps;
--   UNGUARDED: each backtracking step may re-run the whole rest of the pattern.
local function analyse(pat, p)
  local k, kinds, quants, starts, ends, irregular = parse(pat, p)
  local nofail = {}
  nofail[k + 1] = true
  for i = k, 1, -1 do
    local kind, q = kinds[i], quants[i]
    nofail[i] = nofail[i + 1] and (kind == ZERO_WIDTH or (kind == SINGLE and q ~= NONE and q ~= PLUS_Q))
  end
  local modes = {}
  for i = 1, k do
    if kinds[i] == SINGLE and quants[i] ~= NONE then
      if nofail[i + 1] then
        modes[i] = TRAILING
      else
        local mode, g, j = UNGUARDED, 0, i + 1
        while j <= k do
          local kind, q = kinds[j], quants[j]
          g = g + 1
          if kind == ZERO_WIDTH then
            j = j + 1
          elseif kind == END_ANCHOR then
            mode = g
            break
          elseif kind == SINGLE and disjoint(pat, starts[i], ends[i], starts[j], ends[j]) then
            if q == NONE or q == PLUS_Q then
              mode = g
              break
            end
            j = j + 1
          else
            break
          end
        end
        modes[i] = mode
      end
    end
  end
  -- A bracket class costs a step per character of it each time it is tested.
  local width = 1
  for i = 1, k do
    if kinds[i] == SINGLE and byte(pat, starts[i]) == LBRACKET then
      local w = ends[i] - starts[i]
      if w > width then
        width = w
      end
    elseif kinds[i] == FRONTIER then
      width = #pat
    end
  end
  -- The class every match must start with, when there is one (it lets the search skip ahead).
  local first, first_plain
  for i = 1, irregular and 0 or k do
    if kinds[i] ~= ZERO_WIDTH then
      local pc = byte(pat, starts[i] or 0)
      if kinds[i] == SINGLE and (quants[i] == NONE or quants[i] == PLUS_Q) and pc ~= DOT then
        first = sub(pat, starts[i], ends[i] - 1)
        first_plain = pc ~= ESC and pc ~= LBRACKET -- one literal character
      end
      break
    end
  end
  return {
    k = k,
    kinds = kinds,
    quants = quants,
    modes = modes,
    width = width,
    first = first,
    first_plain = first_plain,
    irregular = irregular,
  }
end

-- Shapes by pattern, one cache for anchored use (find, match, gsub after a "^") and one for
-- unanchored use; bounded, since scripts may build patterns at will.
local shapes = { [true] = {}, [false] = {} }
local shape_count = 0
local MALFORMED = {}

local function shape_of(pat, anchored)
  local cache = shapes[anchored]
  local shape = cache[pat]
  if shape == nil then
    local ok, result = pcall(analyse, pat, anchored and 2 or 1)
    shape = ok and result or MALFORMED
    if shape_count >= 256 then
      shapes, shape_count = { [true] = {}, [false] = {} }, 0
      cache = shapes[anchored]
    end
    cache[pat] = shape
    shape_count = shape_count + 1
  end
  return shape
end

-- Upper bounds of the C matcher's steps for pattern `pat` on a subject of `n` bytes: for the
-- whole call, and for one attempt at one position. `anchored` when the pattern's "^" anchors it
-- (it does in find, match and gsub). Also returns the pattern's shape.
local function cost(pat, n, anchored)
  local shape = shape_of(pat, anchored)
  if shape == MALFORMED then
    return huge, huge, shape
  end
  n = n + 0.0 -- floats: the bound may pass the integers' range
  local kinds, quants, modes = shape.kinds, shape.quants, shape.modes
  local c = 1
  for i = shape.k, 1, -1 do
    local kind = kinds[i]
    if kind == ZERO_WIDTH or kind == FRONTIER then
      c = 1 + c
    elseif kind == END_ANCHOR then
      c = 1
    elseif kind == SCAN then
      c = n + c
    else
      local q, mode = quants[i], modes[i]
      if q == NONE or mode == TRAILING then
        c = 1 + c
      elseif q == OPTIONAL then
        c = 1 + 2 * c
      elseif q == LAZY then
        c = mode > 0 and (n * (1 + mode) + c) or ((n + 1) * (1 + c))
      else
        c = mode > 0 and (n * (1 + mode) + c) or (n + (n + 1) * c)
      end
    end
  end
  local width = shape.width
  return ((anchored and 1 or (n + 1)) * c + n) * width, (c + n) * width, shape
end

---------------------------------------------------------------------------------------------
-- Match states. A state tries the pattern at one position (`attempt`, returning the end of the
-- match, exclusive) and then knows its captures. The Lua state runs the matcher above; the C
-- state runs one anchored attempt of the C matcher (bounded by the budget) per position, so the
-- loop over positions is Lua, seen by the hook.
---------------------------------------------------------------------------------------------
local function lua_attempt(ms, s)
  ms.level, ms.depth = 0, MAXCCALLS
  return do_match(ms, s, ms.p0)
end

local function c_attempt(ms, s)
  charge(ms.attempt_ns)
  local r = pack(real_find(ms.src, ms.cpat, s))
  if r[1] == nil then
    return nil
  end
  local values = ms.values
  for i = 3, r.n do
    values[i - 2] = r[i]
  end
  ms.level = r.n - 2
  return r[2] + 1
end

local function new_state(src, pat, p0, shape, in_c, attempt_cost)
  local n = #src
  local first = shape ~= MALFORMED and shape.first or nil
  if first and (n + 1.0) * shape.width > budget then
    first = nil
  end
  return {
    src = src,
    n = n,
    pat = pat,
    plen = #pat,
    p0 = p0,
    level = 0,
    depth = MAXCCALLS,
    cap_init = {},
    cap_len = {},
    attempt = in_c and c_attempt or lua_attempt,
    cpat = in_c and ("^" .. sub(pat, p0)) or nil,
    values = in_c and {} or nil,
    attempt_ns = in_c and attempt_cost * STEP_NS or 0,
    first_ns = first and (n + 1.0) * shape.width * STEP_NS or 0,
    first = first,
    first_plain = first and shape.first_plain,
  }
end

-- The next position a match may start at (the first character must be in the first class).
local function next_start(ms, s)
  local first = ms.first
  if first == nil or s > ms.n then
    return s
  end
  charge(ms.first_ns)
  return real_find(ms.src, first, s, ms.first_plain) or (ms.n + 2)
end

-- Capture `i` (1-based) of a match from s to e (e exclusive): a string or a position.
local function capture(ms, i, s, e)
  if i > ms.level then
    if i ~= 1 then
      fail("invalid capture index %" .. i)
    end
    return sub(ms.src, s, e - 1)
  end
  if ms.values then
    return ms.values[i]
  end
  local len, init = ms.cap_len[i], ms.cap_init[i]
  if len == CAP_UNFINISHED then
    fail("unfinished capture")
  elseif len == CAP_POSITION then
    return init
  end
  return sub(ms.src, init, init + len - 1)
end

local function captures(ms, s, e, whole)
  local count = ms.level
  if count == 0 and whole then
    count = 1
  end
  local out = {}
  for i = 1, count do
    out[i] = capture(ms, i, s, e)
  end
  return out, count
end

---------------------------------------------------------------------------------------------
-- The library functions on a match state. Arguments are already checked and normalized:
-- `s`, `p` strings, `init` an integer from 1 to #s + 1.
---------------------------------------------------------------------------------------------
local function plain_find(s, p, init)
  local n, m = #s, #p
  if m == 0 then
    return init, init - 1
  end
  -- The C search for a short head of the needle is cheap; full comparisons happen here, one
  -- candidate per loop turn, so the instruction hook sees the work.
  local head = sub(p, 1, 16)
  local pos = init
  while true do
    charge((n - pos) / 4 + m)
    local a = real_find(s, head, pos, true)
    if not a or a + m - 1 > n then
      return nil
    end
    if m <= 16 or sub(s, a, a + m - 1) == p then
      return a, a + m - 1
    end
    pos = a + 1
  end
end

local function find_aux(ms, init, anchor, is_find)
  local n, attempt = ms.n, ms.attempt
  local s1 = anchor and init or next_start(ms, init)
  while s1 <= n + 1 do
    local e = attempt(ms, s1)
    if e then
      if is_find then
        local caps, count = captures(ms, nil, nil, false)
        return s1, e - 1, unpack(caps, 1, count)
      end
      local caps, count = captures(ms, s1, e, true)
      return unpack(caps, 1, count)
    end
    if anchor then
      break
    end
    s1 = next_start(ms, s1 + 1)
  end
  return nil
end

local function gmatch(ms, init)
  local n, attempt = ms.n, ms.attempt
  local src, lastmatch = init, nil
  return function()
    src = next_start(ms, src)
    while src <= n + 1 do
      local e = attempt(ms, src)
      if e and e ~= lastmatch then
        local start = src
        src, lastmatch = e, e
        local caps, count = captures(ms, start, e, true)
        return unpack(caps, 1, count)
      end
      src = next_start(ms, src + 1)
    end
    return nil
  end
end

local function add_string(ms, parts, repl, s, e)
  local i, l = 1, #repl
  while i <= l do
    local pct = real_find(repl, "%", i, true)
    if not pct then
      parts[#parts + 1] = sub(repl, i)
      return
    end
    parts[#parts + 1] = sub(repl, i, pct - 1)
    local d = byte(repl, pct + 1)
    if d == ESC then
      parts[#parts + 1] = "%"
    elseif d == 48 then
      parts[#parts + 1] = sub(ms.src, s, e - 1)
    elseif d and d >= 49 and d <= 57 then
      parts[#parts + 1] = tostring(capture(ms, d - 48, s, e))
    else
      fail("invalid use of '%' in replacement string")
    end
    i = pct + 2
  end
end

local function add_value(ms, parts, repl, kind, s, e)
  local value
  if kind == "function" then
    local caps, count = captures(ms, s, e, true)
    value = repl(unpack(caps, 1, count))
  elseif kind == "table" then
    value = repl[capture(ms, 1, s, e)]
  else
    add_string(ms, parts, repl, s, e)
    return true
  end
  if not value then
    parts[#parts + 1] = sub(ms.src, s, e - 1)
    return false
  end
  local vt = type(value)
  if vt ~= "string" and vt ~= "number" then
    fail("invalid replacement value (a " .. vt .. ")")
  end
  parts[#parts + 1] = value
  return true
end

local function gsub(ms, repl, max_n, anchor)
  local kind = type(repl)
  if kind == "number" then
    repl, kind = tostring(repl), "string"
  end
  local s, n, attempt = ms.src, ms.n, ms.attempt
  local src, lastmatch, count, changed = 1, nil, 0, false
  local parts, copied = {}, 1
  if not anchor then
    src = next_start(ms, src)
  end
  while count < max_n and src <= n + 1 do
    local e = attempt(ms, src)
    if e and e ~= lastmatch then
      count = count + 1
      parts[#parts + 1] = sub(s, copied, src - 1)
      changed = add_value(ms, parts, repl, kind, src, e) or changed
      src, lastmatch, copied = e, e, e
    elseif src <= n then
      src = src + 1
    else
      break
    end
    if anchor then
      break
    end
    src = next_start(ms, src)
  end
  if not changed then
    return s, count
  end
  parts[#parts + 1] = sub(s, copied)
  return concat(parts), count
end

---------------------------------------------------------------------------------------------
-- Entry points used by the sandbox's string functions: the C function when the whole call is
-- within the budget; else C attempts one position at a time when one attempt is; else the Lua
-- matcher.
---------------------------------------------------------------------------------------------
local function plain_cost(n, m, init)
  local span = n - init + 1 - m + 1.0
  if span <= 0 then
    return 0
  end
  return span * (1 + m / 256)
end

local function has_specials(p)
  return real_find(p, "[%^%$%*%+%?%.%(%[%%%-]") ~= nil
end

-- The state for a call whose whole cost is beyond the budget.
local function state_for(s, p, anchored, attempt_cost, shape)
  local in_c = shape ~= MALFORMED and not shape.irregular and not anchored
    and attempt_cost <= budget
  return new_state(s, p, anchored and 2 or 1, shape, in_c, attempt_cost)
end

local M = {}

function M.find(s, p, init, plain)
  if plain or not has_specials(p) then
    if plain_cost(#s, #p, init) <= budget then
      return real_find(s, p, init, true)
    end
    return plain_find(s, p, init)
  end
  local anchored = byte(p, 1) == CARET
  local total, each, shape = cost(p, #s - init + 1, anchored)
  if total <= budget then
    return real_find(s, p, init)
  end
  return find_aux(state_for(s, p, anchored, each, shape), init, anchored, true)
end

function M.match(s, p, init)
  local anchored = byte(p, 1) == CARET
  local total, each, shape = cost(p, #s - init + 1, anchored)
  if total <= budget then
    return real_match(s, p, init)
  end
  return find_aux(state_for(s, p, anchored, each, shape), init, anchored, false)
end

function M.gmatch(s, p, init)
  local total, each, shape = cost(p, #s - init + 1, false)
  if total <= budget then
    return real_gmatch(s, p, init)
  end
  return gmatch(state_for(s, p, false, each, shape), init)
end

function M.gsub(s, p, repl, max_n)
  local anchored = byte(p, 1) == CARET
  local total, each, shape = cost(p, #s, anchored)
  if total <= budget then
    return real_gsub(s, p, repl, max_n)
  end
  return gsub(state_for(s, p, anchored, each, shape), repl, max_n, anchored)
end

M.cost = cost
M.Failure = Failure
return M
