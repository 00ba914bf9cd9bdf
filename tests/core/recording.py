"""A test middleware that notes which parameters a view reads from ``request.GET``,
``request.POST`` and ``request.FILES``: the hostile-input walk then sends bad values in exactly
those (tests/core/test_hostile_input.py)."""

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

READ: dict[str, set[str]] = {"GET": set(), "POST": set(), "FILES": set()}


class _Recording:
    """Notes every key looked up; behaves as the dictionary it wraps otherwise."""

    sink: set[str]

    def __getitem__(self, key):
        self.sink.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.sink.add(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self.sink.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        self.sink.add(key)
        return super().getlist(key, default)


class RecordingQueryDict(_Recording, QueryDict):
    def __init__(self, source=None, sink=None):
        super().__init__(mutable=True)
        self.sink = sink if sink is not None else set()
        if source is not None:
            for key, values in source.lists():
                self.setlist(key, values)
        self._mutable = False

    def __copy__(self):
        return self.__deepcopy__({})

    def __deepcopy__(self, memo):
        copied = QueryDict(mutable=True)
        for key, values in self.lists():
            copied.setlist(key, list(values))
        return copied


class RecordingFiles(_Recording, MultiValueDict):
    def __init__(self, source=None, sink=None):
        super().__init__()
        self.sink = sink if sink is not None else set()
        if source is not None:
            for key, values in source.lists():
                self.setlist(key, values)


class RecordReads:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = RecordingQueryDict(request.GET, READ["GET"])
        if request.method == "POST":
            post, files = request.POST, request.FILES
            request.POST = RecordingQueryDict(post, READ["POST"])
            request._files = RecordingFiles(files, READ["FILES"])
        return self.get_response(request)
