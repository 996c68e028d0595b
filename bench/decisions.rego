# The OPA side of `npm run bench -- --only decisions`: Admit's POST /decisions (the thumbprint form,
# web/decision-route.ts, with domain/policy.ts) as Rego, over the same registry facts exported as
# data.admit by bench/decisions.ts: data.admit.clients[clientId] is exactly what Admit's decision
# cache holds for that client (registry/decision-facts.ts). Same preconditions in the same order,
# then every policy denial. Queried as POST /v1/data/admit/decisions/decision {"input": <body + gateway>}.
package admit.decisions

client := data.admit.clients[input.clientId]

gateway := data.admit.gateways[input.gateway]

scope_definition := data.admit.scopes[input.scope]

grant := client.grant

conditions := grant.conditions

confirmation_matches if {
	client.confirmation.method == input.confirmation.method
	client.confirmation.value == input.confirmation.value
}

# The first failing precondition, in Admit's order.
precondition := {"code": "CLIENT_UNKNOWN", "message": "no client is registered with this id"} if {
	not client
} else := {"code": "GATEWAY_NOT_SERVING", "message": sprintf("the client is a %s client, which gateway %s does not serve", [client.environment, input.gateway])} if {
	not client.environment in gateway.environments
} else := {"code": "CLIENT_NOT_ACTIVE", "message": sprintf("the client is %s", [lower(client.credentialStatus)])} if {
	client.credentialStatus != "ACTIVE"
} else := {"code": "APPLICATION_NOT_ADMITTED", "message": sprintf("the application is %s", [lower(client.applicationStatus)])} if {
	client.applicationStatus != "ADMITTED"
} else := {"code": "CONFIRMATION_MISMATCH", "message": "the client did not present the anchor its credential is bound to"} if {
	not confirmation_matches
} else := {"code": "GRANT_NOT_ACTIVE", "message": "the application holds no active grant"} if {
	not grant
}

# domain/policy.ts `decide`: every denial.
denials contains {"code": "SCOPE_UNKNOWN", "message": sprintf("%s is not in the scope catalogue", [json.marshal(input.scope)])} if {
	not scope_definition
}

denials contains {"code": "SCOPE_NOT_GRANTED", "message": sprintf("%s is not granted to this application", [input.scope])} if {
	scope_definition
	not input.scope in grant.scopes
}

denials contains {"code": "ENVIRONMENT_UNKNOWN", "message": sprintf("%s is not a known environment", [json.marshal(input.environment)])} if {
	not input.environment in data.admit.environments
}

denials contains {"code": "ENVIRONMENT_NOT_ALLOWED", "message": sprintf("the grant does not allow the %s environment", [input.environment])} if {
	input.environment in data.admit.environments
	conditions.environments
	not input.environment in conditions.environments
}

at_ns := time.parse_rfc3339_ns(input.at) if {
	input.at
} else := time.now_ns()

weekday_number := {"Sunday": 0, "Monday": 1, "Tuesday": 2, "Wednesday": 3, "Thursday": 4, "Friday": 5, "Saturday": 6}

day := weekday_number[time.weekday(at_ns)]

previous_day := (day + 6) % 7

ms_of_day := ((((clock[0] * 60) + clock[1]) * 60) + clock[2]) * 1000 + floor((at_ns % 1000000000) / 1000000) if {
	clock := time.clock(at_ns)
}

# "HH:MM" in milliseconds; "24:00" ends a day.
clock_ms(hhmm) := ((to_number(parts[0]) * 60) + to_number(parts[1])) * 60000 if {
	parts := split(hhmm, ":")
}

within(window) if {
	clock_ms(window.start) < clock_ms(window.end)
	day in window.days
	ms_of_day >= clock_ms(window.start)
	ms_of_day < clock_ms(window.end)
}

within(window) if {
	clock_ms(window.start) > clock_ms(window.end)
	day in window.days
	ms_of_day >= clock_ms(window.start)
}

within(window) if {
	clock_ms(window.start) > clock_ms(window.end)
	previous_day in window.days
	ms_of_day < clock_ms(window.end)
}

some_window_open if {
	some window in conditions.timeWindows
	within(window)
}

denials contains {"code": "OUTSIDE_TIME_WINDOW", "message": "the request is outside every allowed time window (UTC)"} if {
	conditions.timeWindows
	not some_window_open
}

denials contains {"code": "TRANSACTION_TYPE_MISSING", "message": sprintf("%s requests must state their transaction type", [input.scope])} if {
	conditions.transactionTypes
	not input.transactionType
	scope_definition.movesMoney
}

denials contains {"code": "TRANSACTION_TYPE_NOT_ALLOWED", "message": sprintf("transaction type %s is not allowed", [json.marshal(input.transactionType)])} if {
	conditions.transactionTypes
	input.transactionType
	not input.transactionType in conditions.transactionTypes
}

denials contains {"code": "CURRENCY_MISMATCH", "message": sprintf("the limit is in %s, the request is in %s", [upper(conditions.maxAmount.currency), upper(input.amount.currency)])} if {
	upper(input.amount.currency) != upper(conditions.maxAmount.currency)
}

denials contains {"code": "AMOUNT_OVER_LIMIT", "message": sprintf("%v exceeds the limit of %v %s", [input.amount.value, conditions.maxAmount.value, upper(conditions.maxAmount.currency)])} if {
	upper(input.amount.currency) == upper(conditions.maxAmount.currency)
	input.amount.value > conditions.maxAmount.value
}

denials contains {"code": "AMOUNT_MISSING", "message": sprintf("%s requests must state their amount", [input.scope])} if {
	conditions.maxAmount
	not input.amount
	scope_definition.movesMoney
}

default decision := {"allow": false, "reasons": [{"code": "CLIENT_UNKNOWN", "message": "no client is registered with this id"}]}

decision := {"allow": false, "reasons": [precondition]} if {
	precondition
} else := {"allow": false, "reasons": [d | some d in denials], "applicationId": client.applicationId} if {
	count(denials) > 0
} else := {"allow": true, "reasons": [{"code": "ALLOWED", "message": sprintf("%s is granted and every condition is met", [input.scope])}], "applicationId": client.applicationId}
