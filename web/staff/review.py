"""The learning loop's review page (``/nlu/review``): the AI's turns that were not understood,
understood with low confidence, corrected at the read-back or handed over, for a supervisor to label
(intent and slots) or discard, with the audio span of the call's recording.

Every handler asks :class:`nlu.review_desk.ReviewDesk` (built by the composition root) with the acting
user; the ``nlu_review`` permission is checked there. Form posts carry the CSRF token and answer with a
redirect; the audio answers only through this authorised route and is never cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from nlu.dialogue.review import REASONS
from nlu.review import ReviewError
from nlu.review_desk import SLOTS, ReviewDesk
from ticketing.access import Actor
from ticketing.reports.data import LEARNING_REASONS
from web.staff.deps import check_csrf, current_actor, flash, render, services

router = APIRouter(prefix="/nlu/review")
ActorDep = Annotated[Actor, Depends(current_actor)]
CSRF = [Depends(check_csrf)]
PAGE = 50  # the newest turns shown at once; the rest follow as these are reviewed
INTENT_LABELS = {
    "report": "Phản ánh, kiến nghị",
    "dossier_lookup": "Tra cứu hồ sơ",
    "procedure_question": "Hỏi thủ tục",
    "request_operator": "Xin gặp điện thoại viên",
    "complaint_denunciation": "Khiếu nại, tố cáo",
    "affirm": "Đồng ý / đúng",
    "deny": "Không / sai",
    "inform": "Cung cấp thông tin",
    "greet": "Chào hỏi",
    "goodbye": "Tạm biệt",
}
PHASE_LABELS = {
    "menu": "Hỏi người gọi cần gì",
    "report": "Ghi nhận phản ánh",
    "confirm": "Đọc lại để xác nhận",
    "correction": "Người gọi sửa thông tin",
    "dossier": "Tra cứu hồ sơ",
    "tracking": "Tra cứu phiếu",
    "procedure": "Hỏi thủ tục",
    "operator_offer": "Mời gặp điện thoại viên",
}


def desk(request: Request) -> ReviewDesk:
    return services(request).review_desk


def _back(reason: str) -> str:
    return f"/nlu/review?reason={reason}" if reason in REASONS else "/nlu/review"


@router.get("")
def review_page(request: Request, actor: ActorDep, reason: str = "") -> Response:
    d = desk(request)
    reason = reason if reason in REASONS else ""
    pending = d.pending(actor, reason)
    items = pending[:PAGE]
    ctx = {
        "items": items,
        "total": len(pending),
        "audio": {q.id for q in items if d.has_audio(q)},
        "reason": reason,
        "reasons": [(r, LEARNING_REASONS[r]) for r in REASONS],
        "reason_labels": LEARNING_REASONS,
        "intents": [(i, INTENT_LABELS.get(i, i)) for i in d.intents],
        "slots": SLOTS,
        "phases": PHASE_LABELS,
    }
    return render(request, "nlu_review.html", ctx)


@router.post("/{item_id}/label", dependencies=CSRF)
async def label(request: Request, item_id: str, actor: ActorDep) -> Response:
    form = await request.form()
    intent = str(form.get("intent", ""))
    back = _back(str(form.get("reason", "")))
    slots = {key: str(form.get(f"slot_{key}", "")) for key in SLOTS}
    try:
        q = desk(request).label(actor, item_id, intent, slots)
    except ReviewError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(back, status_code=303)
    name = INTENT_LABELS.get(q.label_intent, q.label_intent)
    flash(request, f"Đã gán nhãn “{name}” cho câu: {q.item.text}")
    return RedirectResponse(back, status_code=303)


@router.post("/{item_id}/discard", dependencies=CSRF)
async def discard(request: Request, item_id: str, actor: ActorDep) -> Response:
    form = await request.form()
    back = _back(str(form.get("reason", "")))
    try:
        q = desk(request).discard(actor, item_id)
    except ReviewError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(back, status_code=303)
    flash(request, f"Đã loại bỏ câu: {q.item.text}")
    return RedirectResponse(back, status_code=303)


@router.get("/{item_id}/audio")
def audio(request: Request, item_id: str, actor: ActorDep) -> Response:
    try:
        clip = desk(request).audio(actor, item_id)
    except ReviewError as exc:
        return render(request, "error.html", {"title": "Không tìm thấy", "message": str(exc)}, 404)
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'inline; filename="cau-{item_id}.wav"'}
    return Response(clip.body, media_type=clip.media_type, headers=headers)
