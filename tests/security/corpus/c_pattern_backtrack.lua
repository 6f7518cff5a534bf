-- expect: timeout
-- promise: 4
return ("a"):rep(40):find(("a*"):rep(30) .. "b")
