"""Stable error codes of the accounts domain (clients switch on these)."""

INVALID_CREDENTIALS = "invalid_credentials"
USERNAME_TAKEN = "username_taken"
NOT_AN_ADVISOR = "not_an_advisor"
