"""Patient files: find, open (audited), create, correct the identity of a patient without an
account, notes (practitioners), documents (practitioners and secretaries), online booking."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consulto.core.audit import client_ip
from consulto.core.errors import DomainError

from .. import files, selectors
from ..access import staff_view
from ..forms import AddressForm, DocumentForm, FileSearchForm, IdentityForm, NoteForm
from ..permissions import Perm


def _organisation(request, perm: Perm = Perm.FILES):
    organisations = files.organisations_of(request.user, perm)
    if not organisations:
        raise Http404
    wanted = request.GET.get("org") or request.POST.get("org")
    chosen = next((o for o in organisations if str(o.pk) == wanted), organisations[0])
    return chosen, organisations


@require_GET
@staff_view
def file_list(request):
    organisation, organisations = _organisation(request)
    form = FileSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = files.search_files(
        user=request.user, organisation_id=organisation.pk, query=query, limit=50
    )
    counts = files.no_show_counts(
        organisation_id=organisation.pk, profile_ids=[f.profile_id for f in found]
    )
    return render(
        request,
        "practice/files.html",
        {
            "section": "files",
            "form": form,
            "organisation": organisation,
            "organisations": organisations,
            "rows": [(f, counts.get(f.profile_id, 0)) for f in found],
            "query": query,
        },
    )


@staff_view
def file_new(request):
    organisation, _all = _organisation(request)
    form = IdentityForm(request.POST or None)
    address_form = AddressForm(request.POST or None)
    if form.is_bound and all([form.is_valid(), address_form.is_valid()]):
        try:
            file = files.create_file(
                user=request.user,
                organisation_id=organisation.pk,
                identity=form.cleaned_data,
                address=address_form.cleaned_data,
                ip=client_ip(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Patient file created."))
            return redirect("practice:file", pk=file.pk)
    return render(
        request,
        "practice/file_form.html",
        {
            "section": "files",
            "form": form,
            "address_form": address_form,
            "organisation": organisation,
            "file": None,
        },
    )


@require_GET
@staff_view
def file_detail(request, pk: int):
    view = files.open_file(user=request.user, file_id=pk, ip=client_ip(request))
    return render(
        request,
        "practice/file.html",
        {
            "section": "files",
            "view": view,
            "file": view.file,
            "note_form": NoteForm(),
            "document_form": DocumentForm(),
            "editable": view.file.profile.owner_id is None,
            "can_book": any(
                a.organisation_id == view.file.organisation_id
                for a in selectors.visible_agendas(request.user)
            ),
        },
    )


@staff_view
def file_edit(request, pk: int):
    """The identity and contact of a patient without an account; the address for everyone (a
    patient with an account keeps their identity up to date themself)."""
    file = files.get_file(user=request.user, file_id=pk)
    own_account = file.profile.owner_id is not None
    form = None if own_account else IdentityForm(request.POST or None, instance=file.profile)
    address_form = AddressForm(request.POST or None, instance=file)
    if request.method == "POST" and all(
        f.is_valid() for f in (form, address_form) if f is not None
    ):
        files.update_identity(
            user=request.user,
            file_id=pk,
            identity=form.cleaned_data if form else None,
            address=address_form.cleaned_data,
            ip=client_ip(request),
        )
        messages.success(request, _("Identity and contact saved.") if form else _("Address saved."))
        return redirect("practice:file", pk=pk)
    return render(
        request,
        "practice/file_form.html",
        {
            "section": "files",
            "form": form,
            "address_form": address_form,
            "organisation": file.organisation,
            "file": file,
        },
    )


@require_POST
@staff_view
def note_add(request, pk: int):
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Write the note first."))
        files.add_note(
            user=request.user, file_id=pk, text=form.cleaned_data["text"], ip=client_ip(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Note saved."))
    return redirect("practice:file", pk=pk)


@require_POST
@staff_view
def document_add(request, pk: int):
    form = DocumentForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise DomainError(_("Choose a document to add."))
        upload = form.cleaned_data["document"]
        if upload.size > files.MAX_DOCUMENT_BYTES:
            raise DomainError(_("A document may be at most 10 MB."))
        files.add_document(
            user=request.user,
            file_id=pk,
            name=upload.name,
            content=upload.read(),
            ip=client_ip(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Document added."))
    return redirect("practice:file", pk=pk)


@require_GET
@staff_view
def document_download(request, pk: int):
    name, content_type, content = files.read_document(
        user=request.user, document_id=pk, ip=client_ip(request)
    )
    response = HttpResponse(content, content_type=content_type)
    inline = request.GET.get("voir") == "1"
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name, safe='')}"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@staff_view
def online_booking(request, pk: int):
    allowed = request.POST.get("allowed") == "1"
    files.set_online_booking(user=request.user, file_id=pk, allowed=allowed, ip=client_ip(request))
    messages.success(
        request,
        _("Online booking is open for this patient.")
        if allowed
        else _("Online booking is stopped for this patient: they will be asked to call."),
    )
    return redirect("practice:file", pk=pk)


urlpatterns = [
    path("patients/", file_list, name="files"),
    path("patients/nouveau/", file_new, name="file_new"),
    path("patients/<id:pk>/", file_detail, name="file"),
    path("patients/<id:pk>/identite/", file_edit, name="file_edit"),
    path("patients/<id:pk>/notes/", note_add, name="note_add"),
    path("patients/<id:pk>/documents/", document_add, name="document_add"),
    path("patients/<id:pk>/reservation-en-ligne/", online_booking, name="file_online_booking"),
    path("documents/<id:pk>/", document_download, name="document"),
]
