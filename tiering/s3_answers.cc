#include "tiering/s3_answers.h"

#include <algorithm>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tiering/sigv4.h"
#include "tiering/xml.h"

namespace timestore::tiering {
namespace {

// Decodes EncodingType=url values: %XX and '+' as space.
std::string UrlDecodePlus(std::string_view s) {
  std::string plus_as_space(s);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return PercentDecode(plus_as_space);
}

}  // namespace

absl::StatusOr<uint64_t> ParseObjectSize(std::string_view s) {
  uint64_t v = 0;
  if (!ParseInt(s, &v)) return absl::InvalidArgumentError(StrCat("bad size \"", s, "\""));
  return v;
}

absl::StatusOr<S3ErrorInfo> ParseS3Error(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "Error") {
    return absl::InvalidArgumentError(StrCat("expected <Error>, got <", root.name, ">"));
  }
  S3ErrorInfo info;
  info.code = root.ChildText("Code");
  info.message = root.ChildText("Message");
  info.request_id = root.ChildText("RequestId");
  info.server_time = root.ChildText("ServerTime");
  if (info.code.empty()) return absl::InvalidArgumentError("<Error> without a <Code>");
  return info;
}

absl::StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "ListBucketResult") {
    return absl::InvalidArgumentError(StrCat("expected <ListBucketResult>, got <", root.name, ">"));
  }
  const bool url_encoded = root.ChildText("EncodingType") == "url";
  ListObjectsPage page;
  page.is_truncated = root.ChildText("IsTruncated") == "true";
  page.next_continuation_token = root.ChildText("NextContinuationToken");
  for (const XmlNode* c : root.Children("Contents")) {
    ObjectInfo info;
    info.key = c->ChildText("Key");
    if (url_encoded) info.key = UrlDecodePlus(info.key);
    if (info.key.empty()) return absl::InvalidArgumentError("<Contents> without a <Key>");
    auto size = ParseObjectSize(c->ChildText("Size"));
    if (!size.ok()) return absl::InvalidArgumentError(StrCat("key ", info.key, ": bad <Size>"));
    info.size = *size;
    info.etag = StripQuotes(c->ChildText("ETag"));
    if (const std::string lm = c->ChildText("LastModified"); !lm.empty()) {
      auto ns = ParseRfc3339(lm);
      if (ns.ok()) info.last_modified_ns = *ns;
    }
    page.objects.push_back(std::move(info));
  }
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return absl::InvalidArgumentError("truncated listing without a NextContinuationToken");
  }
  return page;
}

absl::StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "InitiateMultipartUploadResult") {
    return absl::InvalidArgumentError(
        StrCat("expected <InitiateMultipartUploadResult>, got <", root.name, ">"));
  }
  std::string id = root.ChildText("UploadId");
  if (id.empty()) return absl::InvalidArgumentError("no <UploadId>");
  return id;
}

absl::StatusOr<std::string> ParseCompleteMultipartUpload(std::string_view xml, S3ErrorInfo* error) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name == "Error") {
    S3ErrorInfo info;
    info.code = root.ChildText("Code");
    info.message = root.ChildText("Message");
    info.request_id = root.ChildText("RequestId");
    const std::string text = StrCat("the upload failed: ", info.code.empty() ? "?" : info.code,
                                    info.message.empty() ? "" : ": ", info.message);
    if (error != nullptr) *error = std::move(info);
    return absl::AbortedError(text);
  }
  if (root.name != "CompleteMultipartUploadResult") {
    return absl::InvalidArgumentError(
        StrCat("expected <CompleteMultipartUploadResult>, got <", root.name, ">"));
  }
  return StripQuotes(root.ChildText("ETag"));
}

std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    StrAppend(&out, "<Part><PartNumber>", i + 1, "</PartNumber><ETag>", XmlEscape(etags[i]),
              "</ETag></Part>");
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

absl::StatusOr<ListUploadsPage> ParseListMultipartUploads(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlNode root, ParseXml(xml));
  if (root.name != "ListMultipartUploadsResult") {
    return absl::InvalidArgumentError(
        StrCat("expected <ListMultipartUploadsResult>, got <", root.name, ">"));
  }
  const bool url_encoded = root.ChildText("EncodingType") == "url";
  ListUploadsPage page;
  page.is_truncated = root.ChildText("IsTruncated") == "true";
  page.next_key_marker = root.ChildText("NextKeyMarker");
  page.next_upload_id_marker = root.ChildText("NextUploadIdMarker");
  if (url_encoded) page.next_key_marker = UrlDecodePlus(page.next_key_marker);
  for (const XmlNode* u : root.Children("Upload")) {
    PendingUpload p;
    p.key = u->ChildText("Key");
    if (url_encoded) p.key = UrlDecodePlus(p.key);
    p.upload_id = u->ChildText("UploadId");
    if (p.key.empty() || p.upload_id.empty()) {
      return absl::InvalidArgumentError("<Upload> without a <Key> or an <UploadId>");
    }
    if (auto ns = ParseRfc3339(u->ChildText("Initiated")); ns.ok()) p.initiated_ns = *ns;
    page.uploads.push_back(std::move(p));
  }
  if (page.is_truncated && page.next_key_marker.empty() && page.next_upload_id_marker.empty()) {
    return absl::InvalidArgumentError("truncated upload listing without a next marker");
  }
  return page;
}

}  // namespace timestore::tiering
