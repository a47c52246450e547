from aizen.goals import Goal
from aizen.store import goals as goal_store


def test_goals_round_trip_per_site() -> None:
    # Given two goals on one site and one on another
    goal_store.put_goal("s1", Goal("g2", "Visit /blog/**", page_pattern="/blog/**", created_at=2))
    goal_store.put_goal("s1", Goal("g1", "Signup", event_name="Signup", created_at=1))
    goal_store.put_goal("s2", Goal("g3", "Other", event_name="Other", created_at=1))
    # When / Then
    assert goal_store.list_goals("s1") == [
        Goal("g1", "Signup", event_name="Signup", created_at=1),
        Goal("g2", "Visit /blog/**", page_pattern="/blog/**", created_at=2),
    ]
    assert goal_store.list_goals("s3") == []
