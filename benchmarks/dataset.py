"""Rows that look like real course libraries: lecture recordings, slides, screenshots and podcasts
with the names instructors give them, tags, sizes, two years of uploads and a little trash.

Everything comes from one seeded random generator, so SQLite and PostgreSQL get identical data
and runs can be compared. Words are drawn with skewed (Zipf-like) weights, as in real libraries:
a few topics and tags are everywhere, most are rare, which makes both common and rare searches.
"""
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mediamgr.library.models import search_text_of

SEED = 20240601
MAIN_EMAIL = "instructor@bench.example"  # the instructor whose library the grid benchmark browses
TAGS_PER_OWNER = 200
TRASH_SHARE = 0.03
HISTORY_DAYS = 730

TOPICS = """Sorting algorithms|Binary search|Recursion|Linked lists|Hash tables|Big-O notation|Stacks and queues
|Binary trees|Graph traversal|Dynamic programming|Greedy algorithms|Heaps|Loops|Functions|Variables and types
|Object-oriented design|Unit testing|Version control with Git|SQL joins|Normal forms|Transactions|Indexes
|Limits|Derivatives|Integrals|Chain rule|Taylor series|Matrices|Eigenvalues|Vector spaces|Probability
|Bayes theorem|Hypothesis testing|Linear regression|Confidence intervals|Newton's laws|Kinematics|Energy
|Momentum|Thermodynamics|Electric fields|Circuits|Waves|Optics|Cell structure|Mitosis|Genetics|Evolution
|Photosynthesis|Enzymes|Chemical bonds|Stoichiometry|Acids and bases|Organic chemistry|Supply and demand
|Elasticity|Market structures|Game theory|Inflation|The French Revolution|The Cold War|Industrial Revolution
|Essay structure|Citations|Rhetoric|Poetry analysis|Research methods|Memory management|Pointers|Concurrency
|Operating systems|Networking basics|TCP handshake|Public-key cryptography|Compilers|Regular expressions
|Finite automata|Turing machines|NP-completeness|Neural networks|Gradient descent|Decision trees|Clustering
|Computer vision|Natural language processing|Reinforcement learning|Web accessibility|HTTP caching
|REST APIs|Responsive layouts|Dijkstra's shortest paths|Red-black trees|Bloom filters|Fourier transforms
|Markov chains|Monte Carlo methods|Quantum entanglement|Plate tectonics|Carbon cycle|Sets and relations
|Proof by induction|Combinatorics|Graph coloring|Number theory|Modular arithmetic|Complex numbers|Polar coordinates
|Differential equations|Laplace transforms|Partial derivatives|Multiple integrals|Sampling distributions
|ANOVA|Chi-square tests|Time series|Logistic regression|Bias and variance|Cross-validation|Support vector machines
|Principal component analysis|Word embeddings|Transformers|Convolutional networks|Backpropagation
|Docker containers|Continuous integration|Code review|Design patterns|Refactoring|Type systems|Garbage collection
|Virtual memory|File systems|Deadlocks|Distributed consensus|Load balancing|DNS|Firewalls|Web security
|Cross-site scripting|Password hashing|Immune system|Ecosystems|Population genetics""".replace("\n", "").split("|")
COURSES = ["CS101", "CS201", "CS301", "MATH120", "MATH221", "STAT200", "PHYS101", "BIO110", "CHEM101", "ECON101",
           "HIST210", "ENG105"]
GENERIC_TAGS = ["lecture", "lab", "exam prep", "quiz", "homework", "solutions", "slides", "recording", "draft",
                "final", "review", "guest talk", "office hours", "midterm", "final exam", "reading", "assignment",
                "rubric", "announcement", "intro", "advanced", "optional", "archive", "2023", "2024", "spring",
                "fall", "summer", "remake", "captioned"]
# Every owner's pool: weeks first (the most used), then generic words, courses, topics.
TAG_POOL = ([f"week {week}" for week in range(1, 15)] + GENERIC_TAGS + [code.lower() for code in COURSES]
            + [topic.lower() for topic in TOPICS])[:TAGS_PER_OWNER]

# kind -> (share of files, [(weight, name pattern, extension)])
NAME_PATTERNS = {
    "video": (0.40, [(50, "Week {week} - Lecture {lecture} - {topic}", "mp4"),
                     (15, "Lab {n} - {topic} walkthrough", "mp4"), (15, "{topic} - worked example {n}", "mp4"),
                     (10, "Office hours {date}", "mp4"), (5, "Guest talk - {topic}", "mov"),
                     (5, "Screen recording {date} at {clock}", "webm")]),
    "document": (0.30, [(35, "Week {week} - {topic} slides", "pdf"), (20, "{topic} notes", "pdf"),
                        (15, "Problem set {n} - {topic}", "pdf"), (10, "Problem set {n} solutions", "pdf"),
                        (5, "{course} syllabus {term}", "docx"),
                        (15, "Week {week} - Lecture {lecture} - {topic}", "pptx")]),
    "image": (0.20, [(35, "IMG_{photo}", "jpg"), (25, "Screenshot {date} at {clock}", "png"),
                     (25, "{topic} diagram", "png"), (15, "Whiteboard week {week} - {topic}", "jpg")]),
    "audio": (0.10, [(50, "Podcast ep {n} - {topic}", "mp3"),
                     (30, "Week {week} - Lecture {lecture} - {topic} (audio only)", "m4a"),
                     (20, "Office hours {date}", "m4a")]),
}
MIME_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "pdf": "application/pdf",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
              "jpg": "image/jpeg", "png": "image/png", "mp3": "audio/mpeg", "m4a": "audio/mp4"}
# kind -> median size in bytes, spread (sigma of the log-normal)
SIZES = {"video": (300e6, 1.0), "document": (2e6, 1.2), "image": (1.5e6, 0.9), "audio": (40e6, 0.8)}
# Descriptions, from a generator of their own (the other columns stay as they were): most files have
# one or two sentences; "pseudocode" and "derivation" are common words found only there, "errata"
# uncommon, "zeppelin" rare.
DESCRIPTION_SEED = SEED + 1
DESCRIBED_SHARE = 0.6
DESCRIPTIONS = [(30, "Recorded in {term} for {course}: {topic} from first principles."),
                (20, "Covers {topic} and {topic2}, with pseudocode for every step."),
                (15, "Worked examples on {topic}; the derivation is on the second board."),
                (15, "Slides and notes for {topic}. See the reading list in the syllabus."),
                (15, "Questions from office hours about {topic}, answered one by one."),
                (4, "Errata: the third example of {topic} has a sign error, fixed in the notes."),
                (0.2, "Guest appearance by the zeppelin club, who explain {topic} with balloons.")]
MEDIA_COLUMNS = ("id", "owner_id", "name", "name_key", "search_text", "original_name", "kind", "mime_type",
                 "size_bytes", "sha256", "storage_key", "thumbnail_key", "duration_seconds", "width", "height",
                 "video_codec", "audio_codec", "category", "description", "status", "failure_reason",
                 "created_at", "updated_at", "ready_at", "deleted_at")


def _zipf_weights(count, exponent=1.0):
    return [1 / (rank + 1) ** exponent for rank in range(count)]


@dataclass(frozen=True)
class Plan:
    """Who owns how many files: the first user is the instructor the grid benchmark logs in as."""

    main_files: int
    other_users: int
    other_files: int

    @classmethod
    def for_rows(cls, main_files):
        # Others hold twice the main library between them, so the table is 3x one user's rows.
        return cls(main_files=main_files, other_users=40, other_files=2 * main_files)

    @property
    def user_ids(self):
        return list(range(1, self.other_users + 2))

    @property
    def total_files(self):
        return self.main_files + self.other_files

    def tag_id(self, owner_id, index):
        return (owner_id - 1) * TAGS_PER_OWNER + index + 1


def user_rows(plan, password_hash, created_at):
    rows = [{"id": 1, "email": MAIN_EMAIL, "display_name": "Bench Instructor",
             "password_hash": password_hash, "role": "instructor", "created_at": created_at}]
    rows += [{"id": user_id, "email": f"colleague{user_id}@bench.example", "display_name": f"Colleague {user_id}",
              "password_hash": password_hash, "role": "instructor", "created_at": created_at}
             for user_id in plan.user_ids[1:]]
    return rows


def tag_rows(plan, created_at):
    return [{"id": plan.tag_id(owner_id, index), "owner_id": owner_id, "name": name, "created_at": created_at}
            for owner_id in plan.user_ids for index, name in enumerate(TAG_POOL)]


class MediaGenerator:
    """Yields media rows (tuples in MEDIA_COLUMNS order) and (media_id, tag_id) rows in batches."""

    def __init__(self, plan, now=None):
        self.plan = plan
        self.rng = random.Random(SEED)
        self.description_rng = random.Random(DESCRIPTION_SEED)
        self.now = (now or datetime.now(timezone.utc)).replace(tzinfo=None, microsecond=0)
        self._topic_weights = _zipf_weights(len(TOPICS), 0.9)
        self._tag_weights = _zipf_weights(len(TAG_POOL), 1.0)
        self._kinds = list(NAME_PATTERNS)
        self._kind_weights = [NAME_PATTERNS[kind][0] for kind in self._kinds]

    def batches(self, size=20000):
        """Rows in upload order (ids follow created_at) with owners interleaved, like a real table."""
        rng, plan = self.rng, self.plan
        owners = [1] * plan.main_files + [rng.choice(plan.user_ids[1:]) for _ in range(plan.other_files)]
        rng.shuffle(owners)
        start = self.now - timedelta(days=HISTORY_DAYS)
        seconds = sorted(rng.uniform(0, HISTORY_DAYS * 86400) for _ in owners)
        media, links = [], []
        for media_id, (owner_id, offset) in enumerate(zip(owners, seconds), start=1):
            created_at = start + timedelta(seconds=offset)
            row, tag_names, tag_ids = self._media_row(media_id, owner_id, created_at)
            media.append(row)
            links.extend((media_id, tag_id) for tag_id in tag_ids)
            if len(media) >= size:
                yield media, links
                media, links = [], []
        if media:
            yield media, links

    def _media_row(self, media_id, owner_id, created_at):
        """The row, its tag names and its tag ids; search_text as MediaFile.refresh_search_text() makes it."""
        rng = self.rng
        kind = rng.choices(self._kinds, self._kind_weights)[0]
        name, extension = self._name(kind, created_at)
        picks = sorted({rng.choices(range(len(TAG_POOL)), self._tag_weights)[0]
                        for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))})
        tag_names = sorted(TAG_POOL[index] for index in picks)
        sha256 = f"{rng.getrandbits(256):064x}"
        median_size, sigma = SIZES[kind]
        size = int(min(max(rng.lognormvariate(0, sigma) * median_size, 10_000), 8e9))
        status, ready_at, deleted_at, failure = "ready", created_at + timedelta(seconds=rng.randint(5, 600)), None, None
        roll = rng.random()
        if roll < TRASH_SHARE:
            deleted_at = min(created_at + timedelta(days=rng.uniform(0, 60)), self.now)
            status = "deleted"
        elif roll < TRASH_SHARE + 0.002:
            status, ready_at, failure = "failed", None, "Could not read this file as video."
        elif roll < TRASH_SHARE + 0.005:
            status, ready_at = "processing", None
        duration, width, height, video_codec, audio_codec = self._media_facts(kind)
        has_thumbnail = ready_at is not None and kind in ("video", "image", "document")
        category = rng.choice(("", "", "", "Lectures", "Readings", "Assessments"))
        description = self._description(created_at)
        row = (media_id, owner_id, name, name.lower(), search_text_of(name, tag_names, category, description), name, kind,
               MIME_TYPES[extension], size, sha256, f"users/{owner_id}/media/{sha256}",
               f"users/{owner_id}/thumbs/{sha256}.webp" if has_thumbnail else None,
               duration, width, height, video_codec, audio_codec,
               category, description, status, failure,
               created_at, ready_at or created_at, ready_at, deleted_at)
        return row, tag_names, [self.plan.tag_id(owner_id, index) for index in picks]

    def _description(self, created_at):
        rng = self.description_rng
        if rng.random() >= DESCRIBED_SHARE:
            return ""
        sentences = rng.choices([text for _weight, text in DESCRIPTIONS], [weight for weight, _text in DESCRIPTIONS],
                                k=rng.choice((1, 1, 2)))
        words = {"topic": rng.choices(TOPICS, self._topic_weights)[0], "topic2": rng.choices(TOPICS, self._topic_weights)[0],
                 "course": rng.choice(COURSES), "term": f"{rng.choice(('Spring', 'Fall'))} {created_at.year}"}
        return " ".join(sentence.format(**words) for sentence in sentences)

    def _name(self, kind, created_at):
        rng = self.rng
        patterns = NAME_PATTERNS[kind][1]
        _weight, pattern, extension = rng.choices(patterns, [weight for weight, _p, _e in patterns])[0]
        stamp = created_at - timedelta(minutes=rng.randint(0, 600))
        words = {"week": rng.randint(1, 14), "lecture": rng.randint(1, 4), "n": rng.randint(1, 30),
                 "topic": rng.choices(TOPICS, self._topic_weights)[0], "date": stamp.strftime("%Y-%m-%d"),
                 "clock": stamp.strftime("%H.%M.%S"), "photo": rng.randint(1000, 9999),
                 "course": rng.choice(COURSES), "term": f"{rng.choice(('Spring', 'Fall'))} {stamp.year}"}
        return f"{pattern.format(**words)}.{extension}", extension

    def _media_facts(self, kind):
        rng = self.rng
        if kind == "video":
            width, height = rng.choice(((1920, 1080), (1280, 720), (3840, 2160)))
            codecs = rng.choice((("h264", "aac"), ("vp9", "opus")))
            return rng.lognormvariate(0, 0.7) * 1200, width, height, *codecs
        if kind == "audio":
            return rng.lognormvariate(0, 0.6) * 1800, None, None, None, rng.choice(("mp3", "aac"))
        if kind == "image":
            width, height = rng.choice(((4032, 3024), (2880, 1800), (1920, 1080), (1200, 800)))
            return None, width, height, None, None
        return None, None, None, None, None
