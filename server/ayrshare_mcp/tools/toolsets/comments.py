"""The comments toolset: read a post's comments, comment, reply, and delete.

A comment or a reply is public the moment it lands, so it asks first and is sent at most once (see `tools.public`).
Deleting follows the core rule for posts: one comment by its id does not ask; all of a post's comments asks, like a
bulk delete, and with nobody to ask follows AYRSHARE_ALLOW_UNCONFIRMED_DELETES.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ayrshare_mcp.auth import scopes
from ayrshare_mcp.client import Account, AyrshareAPIError, JSONObject
from ayrshare_mcp.confirmation import Question
from ayrshare_mcp.settings import ENV_ALLOW_UNCONFIRMED_DELETES, Unattended
from ayrshare_mcp.tools.arguments import ToolArguments
from ayrshare_mcp.tools.public import Outgoing, public_confirmation
from ayrshare_mcp.tools.spec import DESTRUCTIVE, READ, WRITE, Clearance, Confirmation, Proceed, ToolRefusal, ToolSpec

SUMMARY = "Read a post's comments, comment, reply, and delete comments."
INSTRUCTIONS = """\
- Comment tools need Ayrshare's Premium plan or higher. Read comments at most every 10 minutes per post. \
Ids are Ayrshare's (from a post or comment answer) or, with searchPlatformId or platform, the network's own.
"""

GET_COMMENTS = "AYRSHARE_GET_COMMENTS"
POST_COMMENT = "AYRSHARE_POST_COMMENT"
REPLY_COMMENT = "AYRSHARE_REPLY_COMMENT"
DELETE_COMMENT = "AYRSHARE_DELETE_COMMENT"

# The networks Ayrshare lists per operation (engagement reference, "Comments").
ReadPlatform = Literal["bluesky", "facebook", "instagram", "linkedin", "threads", "tiktok", "twitter", "youtube"]
# Those that take media first: an example read off the schema (its first value) then fits mediaUrls too.
CommentPlatform = Literal["facebook", "linkedin", "twitter", "bluesky", "instagram", "reddit", "tiktok", "youtube"]
COMMENT_MEDIA = frozenset({"facebook", "linkedin", "twitter"})
REPLY_MEDIA = frozenset({"facebook", "linkedin"})
# Not an Ayrshare limit (none is documented): a bound on one call; each network refuses more than it takes.
MAX_COMMENT = 10_000
# A path segment: Ayrshare ids and the networks' (LinkedIn's urn:li:comment:(…,…)); never "." or "..". Checked by a
# validator rather than an advertised pattern: a model reads no regex, and a wrong id gets a plain sentence.
_ID = re.compile(r"[A-Za-z0-9_:(),-][A-Za-z0-9_:(),.-]{0,255}")


def _an_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError("not an id: use letters, digits and _ : ( ) , . - only, as the ids in answers are")
    return value


def _https(value: str) -> str:
    if not (value.startswith("https://") and len(value) <= 2048 and not any(c.isspace() for c in value)):
        raise ValueError("not a public https URL")
    return value


def _bounded(value: str) -> str:
    if len(value) > MAX_COMMENT:
        raise ValueError(f"longer than {MAX_COMMENT} characters; shorten it")
    return value


AnyId = Annotated[str, AfterValidator(_an_id)]
OneMedia = Annotated[list[Annotated[str, AfterValidator(_https)]], Field(max_length=1)]
_NOT_A_POST = 404, 114


class OnNetwork(ToolArguments):
    platform: ReadPlatform | None = Field(default=None, description="If the id is this network's.")

    def searched(self) -> dict[str, Any]:
        return {"searchPlatformId": True, "platform": self.platform} if self.platform else {}


class GetCommentsArguments(OnNetwork):
    id: AnyId = Field(description="Post id.")


async def get_comments(account: Account, args: GetCommentsArguments) -> JSONObject:
    return await account.get_comments(args.id, args.searched())


class CommentArguments(ToolArguments):
    comment: Annotated[str, AfterValidator(_bounded)] = Field(description="The text.")
    platforms: Annotated[list[CommentPlatform], Field(min_length=1)] = Field(description="Networks.")
    search_platform_id: bool | None = Field(
        default=None, alias="searchPlatformId", description="The id is the network's."
    )
    media_urls: OneMedia | None = Field(default=None, alias="mediaUrls", description="One image URL.")

    def _coherent(self, media_platforms: frozenset[str]) -> None:
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms has duplicates; name each network once.")
        if self.search_platform_id and len(self.platforms) != 1:
            raise ValueError("With searchPlatformId, give exactly one platform: the network whose id this is.")
        if self.media_urls and (refused := sorted(set(self.platforms) - media_platforms)):
            raise ValueError(f"mediaUrls works only on {', '.join(sorted(media_platforms))}; not {', '.join(refused)}.")
        if not self.comment.strip():
            raise ValueError("comment is blank; write the text to send.")

    def on(self, kind: str, ident: str) -> str:
        network = f"{self.platforms[0]} " if self.search_platform_id else ""
        return f"{kind} {network}{ident!r}"


class PostCommentArguments(CommentArguments):
    id: AnyId = Field(description="Post id.")

    @model_validator(mode="after")
    def _valid(self) -> PostCommentArguments:
        self._coherent(COMMENT_MEDIA)
        return self


class ReplyCommentArguments(CommentArguments):
    comment_id: AnyId = Field(alias="commentId", description="Comment id.")
    video_id: AnyId | None = Field(default=None, alias="videoId", description="TikTok video id.")

    @model_validator(mode="after")
    def _valid(self) -> ReplyCommentArguments:
        self._coherent(REPLY_MEDIA)
        return self


def comment_going_out(args: PostCommentArguments) -> Outgoing:
    return Outgoing(
        "comment", args.comment, args.platforms, f"under the {args.on('post', args.id)}", args.media_urls or ()
    )


def reply_going_out(args: ReplyCommentArguments) -> Outgoing:
    target = f"in reply to the {args.on('comment', args.comment_id)}"
    return Outgoing("reply", args.comment, args.platforms, target, args.media_urls or ())


async def post_comment(account: Account, args: PostCommentArguments) -> JSONObject:
    return await account.post_comment(args.payload())


async def reply_comment(account: Account, args: ReplyCommentArguments) -> JSONObject:
    return await account.reply_comment(args.payload())


class DeleteCommentArguments(OnNetwork):
    comment_id: AnyId | None = Field(default=None, alias="commentId", description="One comment.")
    post_id: AnyId | None = Field(default=None, alias="postId", description="Or all under this post.")

    @model_validator(mode="after")
    def _one_target(self) -> DeleteCommentArguments:
        if (self.comment_id is None) == (self.post_id is None):
            raise ValueError("Give commentId (one comment) or postId (all its comments sent via Ayrshare), not both.")
        if self.platform and self.comment_id is None:
            raise ValueError("platform goes with commentId (the network's comment id), not postId.")
        return self

    @property
    def target(self) -> str:
        return self.post_id or self.comment_id or ""

    def body(self) -> dict[str, Any]:
        return {"id": self.target, **self.searched()}


async def not_a_post(account: Account, args: DeleteCommentArguments) -> None:
    """An Ayrshare id given as one comment's must not be a post's: that deletes all its comments, which asks.

    Raises:
        ToolRefusal: it is a post's id; nothing was deleted.
    """
    if args.comment_id is None or args.platform:
        return
    try:
        await account.get_post(args.comment_id)
    except AyrshareAPIError as error:
        if (error.status, error.code) == _NOT_A_POST:
            return
        raise
    raise ToolRefusal(
        f"{args.comment_id} is an Ayrshare post id: deleting it removes every comment under the post. Pass it as "
        "postId (the user is asked first), or give one comment's id. Nothing was deleted."
    )


async def ask_before_deleting_all(account: Account, args: DeleteCommentArguments) -> Question | None:
    if args.post_id is None:
        return None
    return Question(
        f"Delete every comment sent through Ayrshare under the post {args.post_id!r}, on every network? This cannot "
        "be undone.",
        consent="Yes, delete them",
        consequence="Deleted comments cannot be restored.",
    )


async def delete_comment(account: Account, args: DeleteCommentArguments, clearance: Clearance) -> JSONObject:
    return await account.delete_comments(args.target, args.body())


def delete_unattended(args: DeleteCommentArguments, unattended: Unattended) -> Proceed[DeleteCommentArguments] | str:
    if unattended.allow_deletes:
        return Proceed(args, Clearance("operator"))
    return (
        "Nothing was deleted: deleting all of a post's comments needs a person's yes, and this client cannot ask one "
        "(it does not support MCP elicitation). Delete them one at a time by commentId, or the server's operator can "
        f"allow unconfirmed bulk deletes with {ENV_ALLOW_UNCONFIRMED_DELETES}=1."
    )


TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        name=GET_COMMENTS,
        title="Get Comments",
        description="A post's comments, with ids and replies.",
        arguments=GetCommentsArguments,
        annotations=READ,
        handler=get_comments,
    ),
    ToolSpec(
        name=POST_COMMENT,
        title="Post Comment",
        description="Comment publicly on a post; asks the user first.",
        arguments=PostCommentArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=public_confirmation(comment_going_out, post_comment),
    ),
    ToolSpec(
        name=REPLY_COMMENT,
        title="Reply to Comment",
        description="Reply publicly to a comment; asks the user first.",
        arguments=ReplyCommentArguments,
        annotations=WRITE,
        scope=scopes.PUBLISH,
        confirmation=public_confirmation(reply_going_out, reply_comment),
    ),
    ToolSpec(
        name=DELETE_COMMENT,
        title="Delete Comment",
        description="Delete one comment, or all sent via Ayrshare under a post (postId; asks first). Irreversible.",
        arguments=DeleteCommentArguments,
        annotations=DESTRUCTIVE,
        confirmation=Confirmation(
            check=not_a_post,
            question=ask_before_deleting_all,
            act=delete_comment,
            declined="Nothing was deleted: the user declined. Do not try again unless the user asks for it.",
            unattended=delete_unattended,
        ),
    ),
)
