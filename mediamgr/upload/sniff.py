"""What a file is, decided from its first bytes (filetype), checked against what the library takes."""
import filetype

from .names import extension_of

SNIFF_BYTES = 8192

# Detected MIME type -> (kind, extensions a file of that content may carry).
ALLOWED = {
    "video/mp4": ("video", {"mp4", "m4v", "m4a", "mp4v", "f4v"}),
    "video/x-m4v": ("video", {"m4v", "mp4"}),
    "video/quicktime": ("video", {"mov", "qt", "mp4"}),
    "video/webm": ("video", {"webm", "weba"}),
    "video/x-matroska": ("video", {"mkv", "mka", "webm"}),
    "video/x-msvideo": ("video", {"avi"}),
    "video/mpeg": ("video", {"mpg", "mpeg", "m2v", "vob"}),
    "video/3gpp": ("video", {"3gp", "3g2"}),
    "video/x-ms-wmv": ("video", {"wmv", "asf", "wma"}),
    "video/x-flv": ("video", {"flv"}),
    "image/jpeg": ("image", {"jpg", "jpeg", "jpe", "jfif"}),
    "image/png": ("image", {"png"}),
    "image/apng": ("image", {"png", "apng"}),
    "image/gif": ("image", {"gif"}),
    "image/webp": ("image", {"webp"}),
    "image/tiff": ("image", {"tif", "tiff"}),
    "image/bmp": ("image", {"bmp", "dib"}),
    "image/heic": ("image", {"heic", "heif"}),
    "image/avif": ("image", {"avif"}),
    "audio/mpeg": ("audio", {"mp3", "mpga"}),
    "audio/mp4": ("audio", {"m4a", "m4b", "mp4", "aac"}),
    "audio/aac": ("audio", {"aac"}),
    "audio/ogg": ("audio", {"ogg", "oga", "opus", "ogv", "spx"}),
    "audio/x-flac": ("audio", {"flac"}),
    "audio/x-wav": ("audio", {"wav", "wave"}),
    "audio/x-aiff": ("audio", {"aif", "aiff", "aifc"}),
    "audio/amr": ("audio", {"amr"}),
    "application/pdf": ("document", {"pdf"}),
    "application/msword": ("document", {"doc", "dot"}),
    "application/vnd.ms-excel": ("document", {"xls", "xlt"}),
    "application/vnd.ms-powerpoint": ("document", {"ppt", "pps", "pot"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", {"docx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", {"xlsx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", {"pptx"}),
    "application/vnd.oasis.opendocument.text": ("document", {"odt"}),
    "application/vnd.oasis.opendocument.spreadsheet": ("document", {"ods"}),
    "application/vnd.oasis.opendocument.presentation": ("document", {"odp"}),
    "application/rtf": ("document", {"rtf"}),
}
ACCEPTED_TYPES = "video, image, audio, PDF and office documents"


class RejectedFile(ValueError):
    """The upload is refused; the message says why, in words for the user."""


def classify(head, filename):
    """(kind, mime_type) for a file whose first bytes are `head`, or RejectedFile."""
    guess = filetype.guess(bytes(head[:SNIFF_BYTES]))
    if guess is None:
        raise RejectedFile(f"{filename}: its content is not a type the library takes ({ACCEPTED_TYPES}).")
    if guess.mime not in ALLOWED:
        raise RejectedFile(f"{filename}: its content is {_describe(guess)}, which the library does not take; "
                           f"it takes {ACCEPTED_TYPES}.")
    kind, extensions = ALLOWED[guess.mime]
    extension = extension_of(filename)
    if extension and extension not in extensions:
        raise RejectedFile(f"{filename}: the name says .{extension} but the content is {_describe(guess)}. "
                           f"Rename the file to .{guess.extension} or upload the right file.")
    return kind, guess.mime


def _describe(guess):
    return f"a {guess.extension.upper()} file ({guess.mime})"


def default_extension(mime):
    for kind_type in filetype.types:
        if kind_type.mime == mime:
            return f".{kind_type.extension}"
    return ""
