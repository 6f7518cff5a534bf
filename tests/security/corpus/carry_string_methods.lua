-- expect: ok
-- promise: 9
-- after: return ("a"):upper() == "A" and string.format ~= nil and ("ab"):rep(2) == "abab"
string.upper = function() return "evil" end string.format = nil string.rep = error return Debug.dump({a = "b"})
