"""Names for the Slack ids in the config: the console shows `@ben` and `#support`, and takes them back.

A person's name is their id without the `U0`/`W0` prefix, lower-cased (U0BEN is ben, U0ENG1 is eng1).
A channel is named after its role: a domain's first channel after the domain, its private review
channel `<domain>-review`, the triage and digest channels `ai-triage` and `ai-digest`, and the private digest
channel `ai-leads`.
"""

import re
from dataclasses import dataclass, field

from bot.domain.policy import Config
from bot.domain.slack_ids import CHANNEL_ID, USER_ID

BOT_NAME = "ai-intake"
REQUESTER = "U0ANA"  # someone in no domain: who the console starts as


def person_name(user_id: str) -> str:
    """U0BEN -> "ben"; an id without the usual prefix keeps its letters: "UABC" -> "abc"."""
    return re.sub(r"^[UW]0?", "", user_id).lower() or user_id.lower()


def dm_channel(user_id: str) -> str:
    """The id of the bot's direct-message channel with a person (as Slack answers chat.postMessage to a user)."""
    return "D" + user_id[1:]


@dataclass
class Directory:
    """Everyone and every channel the console knows, both ways (id -> name, name -> id)."""

    bot_user_id: str
    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    private: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, config: Config, *, bot_user_id: str) -> "Directory":
        directory = cls(bot_user_id=bot_user_id, users={bot_user_id: BOT_NAME})
        directory.add_person(REQUESTER, "requester")
        for admin in config.admins:
            directory.add_person(admin, "admin")
        for d in config.domains:
            for role, people in (
                ("engineer", d.engineers),
                ("reviewer", d.reviewers),
                ("product owner", [d.product_owner]),
                ("platform owner", [d.platform_owner]),
                ("lead", [d.lead]),
            ):
                for person in people:
                    if person:
                        directory.add_person(person, f"{d.name} {role}")
            for i, channel in enumerate(d.channels):
                directory.add_channel(channel, d.name if i == 0 else f"{d.name}-{i + 1}")
            if d.review_channel:
                directory.add_channel(d.review_channel, f"{d.name}-review")
                directory.private.add(d.review_channel)
        directory.add_channel(config.triage_channel, "ai-triage")
        if config.digest:
            directory.add_channel(config.digest.channel, "ai-digest")
            if config.digest.private_channel:
                directory.add_channel(config.digest.private_channel, "ai-leads")
        return directory

    # -- adding -----------------------------------------------------------------------------------
    def add_person(self, user_id: str, role: str | None = None) -> str:
        if user_id not in self.users:
            name = person_name(user_id)
            self.users[user_id] = name if name not in self.users.values() else user_id.lower()
        if role:
            self.roles.setdefault(user_id, []).append(role)
        return user_id

    def add_channel(self, channel_id: str, name: str) -> str:
        if channel_id not in self.channels:
            self.channels[channel_id] = name if name not in self.channels.values() else channel_id.lower()
        return channel_id

    # -- reading ----------------------------------------------------------------------------------
    def user_name(self, user_id: str) -> str:
        return self.users.get(user_id) or person_name(user_id)

    def is_private(self, channel_id: str) -> bool:
        """A private channel: a domain's review channel, or a legacy private (G…) id."""
        return channel_id in self.private or channel_id.startswith("G")

    def channel_label(self, channel_id: str) -> str:
        """ "#support", or "direct message with @ben" for a D… channel."""
        if channel_id.startswith("D"):
            return f"direct message to @{self.user_name('U' + channel_id[1:])}"
        return "#" + (self.channels.get(channel_id) or channel_id.lower())

    def find_user(self, text: str) -> str | None:
        """The id of "@ben", "ben" or "U0BEN"; a new valid id is added; None when it names nobody."""
        word = text.strip().lstrip("@")
        for user_id, name in self.users.items():
            if word.lower() == name or word.upper() == user_id:
                return user_id
        if USER_ID.match(word.upper()) and word.upper() == word:
            return self.add_person(word)
        return None

    def find_channel(self, text: str) -> str | None:
        """The id of "#support", "support" or "C0SUPPORT"; a new valid id is added; None otherwise."""
        word = text.strip().lstrip("#")
        for channel_id, name in self.channels.items():
            if word.lower() == name or word.upper() == channel_id:
                return channel_id
        if CHANNEL_ID.match(word):
            return self.add_channel(word, word.lower())
        return None

    def slack_text(self, typed: str) -> str:
        """What Slack delivers for typed text: `&`, `<`, `>` escaped; `@ben`, `#support` as mentions."""
        words = []
        for word in typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split(" "):
            core = word.rstrip(".,:;!?)")
            tail = word[len(core) :]
            if core.startswith("@") and core[1:] and (user := _named(self.users, core[1:])):
                word = f"<@{user}>{tail}"
            elif core.startswith("#") and core[1:] and (channel := _named(self.channels, core[1:])):
                word = f"<#{channel}|{self.channels[channel]}>{tail}"
            words.append(word)
        return " ".join(words)

    def people_lines(self) -> list[str]:
        """One line per person: "@ben  U0BEN  support engineer"."""
        width = max(len(n) for n in self.users.values()) + 1
        return [
            f"@{name:<{width}} {user_id:<8} {', '.join(self.roles.get(user_id, [])) or 'requester'}"
            for user_id, name in self.users.items()
            if user_id != self.bot_user_id
        ]

    def channel_lines(self) -> list[str]:
        width = max(len(n) for n in self.channels.values()) + 1
        return [f"#{name:<{width}} {channel_id}" for channel_id, name in self.channels.items()]


def _named(table: dict[str, str], name: str) -> str | None:
    return next((key for key, value in table.items() if value == name.lower()), None)
