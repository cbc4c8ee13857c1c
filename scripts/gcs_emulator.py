"""A Google Cloud Storage endpoint on loopback for the tests of `gs://`
sources: gcp-storage-emulator, taught what Polars' object store client
asks of GCS's XML API that it lacks: object paths with escaped characters
(`kpi%2Dtests/deals%2Eparquet`), HEAD requests, an object's
`Last-Modified` and `ETag` headers, and listing a bucket (for globs).

Usage: gcs_emulator.py PORT
"""

import email.utils
import sys
import urllib.parse
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from gcp_storage_emulator import server
from gcp_storage_emulator.handlers import objects
from gcp_storage_emulator.storage import Storage


def _download(request, response, storage, *args, **kwargs):
    objects.download(request, response, storage, *args, **kwargs)
    try:
        obj = storage.get_file_obj(request.params["bucket_name"], request.params["object_id"])
    except Exception:
        return
    updated = datetime.strptime(obj["updated"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    response["Last-Modified"] = email.utils.format_datetime(updated, usegmt=True)
    response["ETag"] = '"{}"'.format(obj.get("etag") or obj.get("md5Hash") or obj["generation"])


def _list(request, response, storage, *args, **kwargs):
    """`GET /BUCKET?list-type=2&prefix=…`: the objects as S3-style XML."""
    one = lambda key: (request.query.get(key) or [None])[0]
    prefix, delimiter = one("prefix"), one("delimiter")
    objs, prefixes = storage.get_file_list(request.params["bucket_name"], prefix, delimiter)
    xml = ['<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>']
    for obj in objs:
        xml.append(
            "<Contents><Key>{}</Key><Size>{}</Size><LastModified>{}</LastModified>"
            '<ETag>"{}"</ETag></Contents>'.format(
                escape(obj["name"]),
                obj["size"],
                obj["updated"],
                escape(str(obj.get("etag") or obj["generation"])),
            )
        )
    for p in prefixes:
        xml.append("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>".format(escape(p)))
    xml.append("</ListBucketResult>")
    response.write_file("".join(xml).encode(), content_type="application/xml")


# Every route that downloads an object, with the headers.
for _, _handlers in server.HANDLERS:
    for _method, _handler in list(_handlers.items()):
        if _handler is objects.download:
            _handlers[_method] = _download
server.HANDLERS = ((r"^/(?P<bucket_name>[-.\w]+)/?$", {server.GET: _list}),) + tuple(server.HANDLERS)


class _Discard:
    """Stands in for the response stream once a HEAD's headers are sent."""

    def write(self, data):
        return len(data)

    def flush(self):
        pass


class Handler(server.RequestHandler):
    def parse_request(self):
        ok = super().parse_request()
        if ok:
            # Paths are matched unescaped; the query keeps its escapes.
            path, sep, query = self.path.partition("?")
            self.path = urllib.parse.unquote(path) + sep + query
        return ok

    def do_HEAD(self):
        # A GET whose body is not sent: the same status and headers.
        self._head = True
        try:
            server.Router(self).handle(server.GET)
        finally:
            if hasattr(self, "_stream"):
                self.wfile = self._stream
                del self._stream
            self._head = False

    def end_headers(self):
        super().end_headers()
        if getattr(self, "_head", False):
            self._stream = self.wfile
            self.wfile = _Discard()


def main():
    port = int(sys.argv[1])
    storage = Storage(use_memory_fs=True)
    httpd = server.server.ThreadingHTTPServer(
        ("127.0.0.1", port), lambda *a, **k: Handler(storage, *a, **k)
    )
    httpd.serve_forever()


if __name__ == "__main__":
    main()
