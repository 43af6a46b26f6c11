"""A deterministic, lazily generated world of department accounts and citizens' replies.

The sample platforms (``archiver.samples.server``) render this world in each platform's real API
shape. Everything is a pure function of ``(seed, platform, index)``: no post is held in memory,
so a world of a million posts costs what a world of ten does.

Post indexes are stable across epochs: index 0 is an account's oldest post, and each epoch (a
later "night") adds newer posts, edits some and deletes some replies and posts, so that
incremental harvests, edits and deletions can be exercised against a known ground truth.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from archiver.model import PLATFORMS

__all__ = ["World", "SampleAccount", "SampleAuthor", "SampleMedia", "SamplePost", "SampleReply"]

#: the instant epoch 0 is "now"; each epoch is one day later
EPOCH0_NOW = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class SampleAccount:
    platform: str
    native_id: str
    handle: str
    display_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SampleAuthor:
    number: int  #: stable per world; 0 is the department
    handle: str
    display_name: str
    is_department: bool


@dataclass(frozen=True, slots=True)
class SampleMedia:
    kind: str  #: "image" or "video"
    name: str  #: unique file stem, e.g. "x-123-0"
    width: int
    height: int
    duration_ms: int | None
    alt_text: str | None


@dataclass(frozen=True, slots=True)
class SamplePost:
    platform: str
    index: int
    created_at: datetime
    text: str
    language: str  #: "en", "hi" or "hi-Latn" (Hinglish)
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    links: tuple[str, ...]
    media: tuple[SampleMedia, ...]
    edited_at: datetime | None  #: set when the post was edited at or before this epoch
    deleted: bool  #: deleted on the platform at this epoch
    like_count: int
    share_count: int
    view_count: int
    reply_count: int  #: replies visible at this epoch


@dataclass(frozen=True, slots=True)
class SampleReply:
    post_index: int
    number: int  #: 1.. within the thread, in creation order
    parent_number: int  #: 0 = the post itself
    depth: int  #: 1 = a direct reply to the post
    author: SampleAuthor
    created_at: datetime
    text: str
    language: str
    edited_at: datetime | None
    deleted: bool
    like_count: int
    #: the personal information written into the text, as (kind, value): the ground truth the
    #: redaction suggestions are measured against
    personal: tuple[tuple[str, str], ...] = ()


#: template field → kind of personal information it writes
_PERSONAL_FIELDS = {"p": "phone", "p2": "phone", "e": "email", "aadhaar": "aadhaar", "pan": "pan", "v": "vehicle", "a": "address"}

_TOPICS_EN = [
    ("flood relief helpline", "#FloodRelief"),
    ("road repair on NH-48", "#RoadSafety"),
    ("water supply schedule", "#JalSeva"),
    ("vaccination camp", "#HealthForAll"),
    ("old-age pension disbursal", "#Pension"),
    ("ration card e-KYC", "#RationCard"),
    ("monsoon preparedness", "#Monsoon"),
    ("school admission portal", "#Education"),
]
_TOPICS_HI = [
    ("बाढ़ राहत हेल्पलाइन", "#बाढ़राहत"),
    ("सड़क मरम्मत का कार्य", "#सड़कसुरक्षा"),
    ("जल आपूर्ति की समय-सारिणी", "#जलसेवा"),
    ("टीकाकरण शिविर", "#स्वास्थ्य"),
    ("वृद्धावस्था पेंशन का वितरण", "#पेंशन"),
    ("राशन कार्ड ई-केवाईसी", "#राशनकार्ड"),
    ("बारिश से पहले की तैयारी", "#मानसून"),
]
_TOPICS_HINGLISH = [
    ("flood relief helpline ka number", "#FloodRelief"),
    ("sadak repair ka kaam", "#RoadSafety"),
    ("paani ki supply", "#JalSeva"),
    ("vaccination camp kal se", "#HealthForAll"),
    ("pension ka paisa", "#Pension"),
    ("baarish ki taiyari", "#Monsoon"),
]
_POST_EN = [
    "Update on the {t}: teams are on the ground in {d} district. Call 1070 for help. {h}",
    "The {t} will continue through {m}. Details on our website. {h}",
    "Citizens of {d}: please note the {t} timings for this week. {h}",
]
_POST_HI = [
    "{d} जिले में {t} जारी है। सहायता के लिए 1070 पर कॉल करें। {h}",
    "{t} के संबंध में सूचना: कृपया {m} तक आवेदन करें। {h}",
]
_POST_HINGLISH = [
    "{d} mein {t} shuru ho gaya hai, help ke liye 1070 dial karein {h}",
    "Sabhi se request hai ki {t} ke liye {m} tak apply karein {h}",
]
_REPLY_EN = [
    "No water in our colony in {d} since three days. Please help, call me on {p}",
    "Thank you for the quick response! The road near {a} is fixed.",
    "Helpline {p2} is not reachable. My email is {e}, kindly reply.",
    "My pension has not come for two months. Aadhaar {aadhaar}, please check.",
    "A truck {v} is parked on the footpath at {a} every day.",
    "When will the {t} reach our village?",
]
_REPLY_HI = [
    "हमारे मोहल्ले {a} में तीन दिन से पानी नहीं आ रहा है, कृपया मदद करें। मेरा नंबर {p} है",
    "धन्यवाद, सड़क की मरम्मत हो गई है।",
    "मेरा पैन {pan} है, रिफंड अभी तक नहीं आया।",
    "बारिश से हमारे गाँव की सड़क टूट गई है, कब ठीक होगी?",
]
_REPLY_HINGLISH = [
    "Sir {d} mein abhi tak paani nahi aaya, please dekhiye. Contact {p}",
    "Bahut badhiya kaam, thank you team!",
    "Mera ration card abhi tak nahi bana, email {e} pe update dijiye",
    "Baarish ki wajah se sadak kharab hai near {a}",
]
_DEPT_REPLY = [
    "We have forwarded your complaint to the district officer. Please DM your details.",
    "आपकी शिकायत दर्ज कर ली गई है। संबंधित अधिकारी जल्द संपर्क करेंगे।",
    "Aapki complaint register ho gayi hai, jaldi action liya jayega.",
]
_DISTRICTS = ["Patna", "Gaya", "Varanasi", "Nashik", "Jaipur", "Bhopal", "Ranchi", "Dehradun"]
_MONTHS = ["30 November", "15 December", "31 January"]
_ADDRESSES = ["House 12, Gandhi Nagar", "Ward 7, Station Road", "Plot 45, Sector 9", "गली नंबर 3, शिव नगर"]
_FIRST = ["Rahul", "Priya", "Amit", "Sunita", "Imran", "Kavita", "Arjun", "Meena", "राकेश", "सीमा", "Deepak", "Fatima"]
_LAST = ["Sharma", "Verma", "Khan", "Yadav", "Singh", "Das", "Iyer", "Patel", "कुमार", "Gupta"]

_ACCOUNTS = {
    "x": ("1350000000000000001", "JalShaktiDept", "Jal Shakti Department"),
    "facebook": ("104000000000001", "JalShaktiDept", "Jal Shakti Department"),
    "instagram": ("17841400000000001", "jalshaktidept", "Jal Shakti Department"),
    "youtube": ("UCsangrahJalShaktiDept01", "JalShaktiDept", "Jal Shakti Department"),
    "mastodon": ("109000000000000001", "jalshakti", "Jal Shakti Department"),
    "bluesky": ("did:plc:sangrahjalshakti0001", "jalshakti.gov.example", "Jal Shakti Department"),
}


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class World:
    """The sample world: ``posts_per_account`` posts per platform at epoch 0, growing each epoch.

    Usage::

        world = World(seed=7, posts_per_account=1000, epoch=0)
        newest = next(world.iter_posts("x"))
        thread = world.replies("x", newest.index)
    """

    def __init__(self, seed: int = 0, posts_per_account: int = 1000, epoch: int = 0) -> None:
        if posts_per_account < 1:
            raise ValueError("posts_per_account must be at least 1")
        self.seed = seed
        self.posts_per_account = posts_per_account
        self.epoch = epoch
        self.growth_per_epoch = max(1, posts_per_account // 20)
        self.now = EPOCH0_NOW + timedelta(days=epoch)
        # spread epoch 0's posts over a year, no closer than a minute apart
        self.interval = max(timedelta(minutes=1), timedelta(days=365) / posts_per_account)
        self.first_at = EPOCH0_NOW - self.interval * posts_per_account

    # -- accounts and credentials ---------------------------------------------------------
    def account(self, platform: str) -> SampleAccount:
        native_id, handle, name = _ACCOUNTS[platform]
        return SampleAccount(platform, native_id, handle, name, datetime(2015, 4, 1, tzinfo=timezone.utc))

    def accounts(self) -> list[SampleAccount]:
        return [self.account(p) for p in PLATFORMS]

    def token(self, platform: str) -> str:
        """The credential the sample platform demands (test-only, never a real secret)."""
        return f"SANGRAH-TEST-SECRET-{platform}-{self.seed:04d}"

    def department(self, platform: str) -> SampleAuthor:
        account = self.account(platform)
        return SampleAuthor(0, account.handle, account.display_name, True)

    def citizen(self, number: int) -> SampleAuthor:
        rng = _rng(self.seed, "citizen", number)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        handle = f"{first if first.isascii() else 'user'}{last if last.isascii() else ''}{number}".lower()
        return SampleAuthor(number, handle, f"{first} {last}", False)

    # -- posts ------------------------------------------------------------------------------
    def post_count(self) -> int:
        """How many posts exist (deleted ones included) at this epoch."""
        return self.posts_per_account + self.epoch * self.growth_per_epoch

    def created_at(self, index: int) -> datetime:
        if index < self.posts_per_account:
            return self.first_at + self.interval * index
        # posts added by later epochs fall within their own day
        extra = index - self.posts_per_account
        day, slot = divmod(extra, self.growth_per_epoch)
        return EPOCH0_NOW + timedelta(days=day) + timedelta(days=1) * (slot + 1) / (self.growth_per_epoch + 1)

    def post(self, platform: str, index: int) -> SamplePost:
        if not 0 <= index < self.post_count():
            raise IndexError(index)
        rng = _rng(self.seed, platform, "post", index)
        lang = rng.choices(["en", "hi", "hi-Latn"], weights=[5, 3, 2])[0]
        topics = {"en": _TOPICS_EN, "hi": _TOPICS_HI, "hi-Latn": _TOPICS_HINGLISH}[lang]
        templates = {"en": _POST_EN, "hi": _POST_HI, "hi-Latn": _POST_HINGLISH}[lang]
        topic, tag = rng.choice(topics)
        district = rng.choice(_DISTRICTS)
        text = rng.choice(templates).format(t=topic, d=district, m=rng.choice(_MONTHS), h=tag)
        mentions: tuple[str, ...] = ()
        if rng.random() < 0.15:
            mentions = (f"DM{district}",)
            text += f" @DM{district}"
        links: tuple[str, ...] = ()
        if rng.random() < 0.2:
            links = (f"https://jalshakti.gov.example/notice/{index}",)
            text += " " + links[0]
        created = self.created_at(index)
        edit_epoch = self._event_epoch(rng, 0.05)
        edited_at = None
        if edit_epoch is not None and edit_epoch <= self.epoch:
            edited_at = max(created + timedelta(hours=2), self._epoch_instant(edit_epoch, rng)) if edit_epoch else created + timedelta(hours=2)
            text += " (updated)" if lang != "hi" else " (संशोधित)"
        delete_epoch = self._event_epoch(rng, 0.01, earliest=1)
        media: list[SampleMedia] = []
        roll = rng.random()
        if roll < 0.3:
            for n in range(rng.choice([1, 1, 2, 3])):
                media.append(SampleMedia("image", f"{platform}-{index}-{n}", 1200, 675, None, f"Notice about {topic}" if n == 0 else None))
        elif roll < 0.38:
            media.append(SampleMedia("video", f"{platform}-{index}-0", 1280, 720, rng.randint(15_000, 600_000), None))
        age_days = max(0.0, (self.now - created).total_seconds() / 86400)
        likes = int(rng.randint(0, 400) * (1 + min(age_days, 30) / 10))
        replies = self.replies(platform, index)
        return SamplePost(
            platform=platform,
            index=index,
            created_at=created,
            text=text,
            language=lang,
            hashtags=(tag,),
            mentions=mentions,
            links=links,
            media=tuple(media),
            edited_at=edited_at,
            deleted=delete_epoch is not None and delete_epoch <= self.epoch,
            like_count=likes + self.epoch,  # counters move every night; content does not
            share_count=likes // 7,
            view_count=likes * 31 + 17,
            reply_count=sum(1 for r in replies if not r.deleted),
        )

    def iter_posts(self, platform: str, *, include_deleted: bool = False) -> Iterator[SamplePost]:
        """Posts newest first, as a timeline lists them."""
        for index in range(self.post_count() - 1, -1, -1):
            post = self.post(platform, index)
            if include_deleted or not post.deleted:
                yield post

    def replies(self, platform: str, index: int) -> tuple[SampleReply, ...]:
        """The whole thread under a post, in creation order, deleted replies flagged."""
        rng = _rng(self.seed, platform, "replies", index)
        count = min(15, int(rng.expovariate(1 / 3.5)))
        created = self.created_at(index)
        out: list[SampleReply] = []
        depth_of = {0: 0}
        when = created
        for number in range(1, count + 1):
            parent = 0 if number == 1 or rng.random() < 0.55 else rng.randint(1, number - 1)
            depth = depth_of[parent] + 1
            if depth > 4:
                parent, depth = 0, 1
            depth_of[number] = depth
            when = when + timedelta(minutes=rng.randint(1, 240))
            if when > self.now:
                break  # not written yet at this epoch
            is_dept = parent != 0 and rng.random() < 0.3
            personal: tuple[tuple[str, str], ...] = ()
            if is_dept:
                author = self.department(platform)
                text, lang = rng.choice(_DEPT_REPLY), "en"
            else:
                author = self.citizen(rng.randint(1, 5000))
                lang = rng.choices(["en", "hi", "hi-Latn"], weights=[4, 3, 3])[0]
                template = rng.choice({"en": _REPLY_EN, "hi": _REPLY_HI, "hi-Latn": _REPLY_HINGLISH}[lang])
                # every value is drawn, used or not, so that the sequence of draws never changes
                values = dict(
                    d=rng.choice(_DISTRICTS),
                    a=rng.choice(_ADDRESSES),
                    t=rng.choice(_TOPICS_EN)[0],
                    p=f"+91 9{rng.randint(100000000, 999999999)}",
                    p2=f"0{rng.randint(11, 99)}-{rng.randint(2000000, 9999999)}",
                    e=f"{author.handle}@example.in",
                    aadhaar=f"{rng.randint(2000, 9999)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    pan="".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5)) + f"{rng.randint(1000, 9999)}" + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"),
                    v=f"DL {rng.randint(1, 13)}C AB {rng.randint(1000, 9999)}",
                )
                text = template.format(**values)
                used = [name for _, name, _, _ in string.Formatter().parse(template) if name]
                personal = tuple((_PERSONAL_FIELDS[name], values[name]) for name in used if name in _PERSONAL_FIELDS)
            edit_epoch = self._event_epoch(rng, 0.03)
            edited_at = None
            if edit_epoch is not None and edit_epoch <= self.epoch:
                edited_at = when + timedelta(minutes=30)
                text += " (edited)"
            delete_epoch = self._event_epoch(rng, 0.05, earliest=1)
            out.append(
                SampleReply(
                    post_index=index,
                    number=number,
                    parent_number=parent,
                    depth=depth,
                    author=author,
                    created_at=when,
                    text=text,
                    language=lang,
                    edited_at=edited_at,
                    deleted=delete_epoch is not None and delete_epoch <= self.epoch,
                    like_count=rng.randint(0, 40) + self.epoch,
                    personal=personal,
                )
            )
        # a reply whose parent is deleted stays (platforms keep orphans) but stays marked
        return tuple(out)

    def visible_replies(self, platform: str, index: int) -> tuple[SampleReply, ...]:
        return tuple(r for r in self.replies(platform, index) if not r.deleted)

    # -- helpers ----------------------------------------------------------------------------
    def _event_epoch(self, rng: random.Random, probability: float, earliest: int = 0) -> int | None:
        """The epoch at which an event (edit, deletion) happens, or None if it never does."""
        draw = rng.random()
        when = rng.randint(earliest, earliest + 3)
        return when if draw < probability else None

    def _epoch_instant(self, epoch: int, rng: random.Random) -> datetime:
        return EPOCH0_NOW + timedelta(days=epoch - 1, hours=rng.randint(1, 20))
