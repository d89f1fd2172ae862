-- wrk script: each request increments one session attribute (POST /cart/api/incr: a read and a write
-- of "count"), cycling through the sessions listed in the file given after "--" (one id a line), each
-- wrk thread from its own offset, so concurrent requests rarely share a session.
local ids = {}
local next_index = 0
local thread_number = 0

function setup(thread)
  thread:set("thread_number", thread_number)
  thread_number = thread_number + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  next_index = (thread_number * 7919) % #ids
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("POST", "/cart/api/incr", {["Cookie"] = "JSESSIONID=" .. ids[next_index]})
end
