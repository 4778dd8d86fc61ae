"""The domain: requests, policy, triage, clocks, nags and digest figures. Pure: standard library and pydantic."""
