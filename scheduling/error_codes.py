"""Stable error codes of calls; clients switch on these, people read detail."""

CALL_NOT_FOUND = "call_not_found"  # 404: no such call, or not a member of its room
ROOM_CLOSED = "room_closed"  # 409: the engagement's room is closed (declined, withdrawn…)
NOT_INVITEE = "not_invitee"  # 403: only the member who did not propose accepts or declines
WRONG_STATE = "wrong_state"  # 409: e.g. accepting twice, accepting a cancelled call
NOT_SCHEDULED = "call_not_scheduled"  # 409: an .ics of a call that never had a time

# 400: bad proposals
SLOT_COUNT = "invalid_slot_count"  # not 1 to 5 slots
INVALID_DURATION = "invalid_duration"  # not 15 to 240 minutes
START_WITHOUT_OFFSET = "start_without_offset"  # a start without its UTC offset
SLOT_IN_PAST = "slot_in_past"  # also 409 on accept, when the chosen slot has passed
SLOTS_OVERLAP = "slots_overlap"  # two slots of one proposal overlap
SLOT_CLASH = "slot_clash"  # a member has another confirmed call then (409 on accept)
INVALID_SLOT = "invalid_slot"  # accept names a slot index the call does not have
INVALID_MEETING_URL = "invalid_meeting_url"  # not an http(s) URL
