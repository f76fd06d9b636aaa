-- bench_serve.lua: wrk script for bench_serve.sh, checking every /probe answer.
--
-- Usage: wrk -s bench/bench_serve.lua URL -- 'probe_success 1'
-- Every response must be a 200 whose body holds exactly one probe_success
-- line, equal to the argument; anything else is a mismatch (a non-200 also
-- counts as non200). Each wrk thread counts in its own Lua state; done()
-- sums the threads' counters through the setup()/thread:get() pattern of
-- wrk's SCRIPTING guide and prints one line for bench_serve.sh:
--   RESULT requests=N duration_us=D checked=N mismatches=N non200=N
--          connect=N read=N write=N timeout=N status=N
-- followed, when something mismatched, by "FIRST_BAD <status> <body start>".

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	expected = args[1]
	if expected == nil or expected == "" then
		io.stderr:write("bench_serve.lua: give the expected line after --\n")
		os.exit(2)
	end
	checked = 0
	mismatches = 0
	non200 = 0
	first_bad = ""
end

-- one_success_line: true when body has exactly one probe_success line and it is `want`.
local function one_success_line(body, want)
	local found = 0
	local value = nil
	for line in body:gmatch("[^\n]+") do
		if line:sub(1, 14) == "probe_success " or line:sub(1, 14) == "probe_success{" then
			found = found + 1
			value = line
		end
	end
	return found == 1 and value == want
end

function response(status, headers, body)
	checked = checked + 1
	local ok = true
	if status ~= 200 then
		non200 = non200 + 1
		ok = false
	elseif not one_success_line(body or "", expected) then
		ok = false
	end
	if not ok then
		mismatches = mismatches + 1
		if first_bad == "" then
			first_bad = tostring(status) .. " " .. string.gsub((body or ""):sub(1, 160), "\n", "\\n")
		end
	end
end

function done(summary, latency, requests)
	local c, m, n, bad = 0, 0, 0, ""
	for _, thread in ipairs(threads) do
		c = c + thread:get("checked")
		m = m + thread:get("mismatches")
		n = n + thread:get("non200")
		if bad == "" then
			bad = thread:get("first_bad")
		end
	end
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d duration_us=%d checked=%d mismatches=%d non200=%d " ..
		"connect=%d read=%d write=%d timeout=%d status=%d\n",
		summary.requests, summary.duration, c, m, n,
		e.connect, e.read, e.write, e.timeout, e.status))
	if bad ~= "" then
		io.write("FIRST_BAD " .. bad .. "\n")
	end
end
