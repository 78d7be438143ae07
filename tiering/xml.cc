#include "tiering/xml.h"

#include <expat.h>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

struct ParseState {
  XmlNode root;
  std::vector<XmlNode*> stack;
  bool has_root = false;
  std::string error;
  XML_Parser parser = nullptr;
};

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  // expat without namespace processing hands "prefix:local".
  if (size_t colon = n.rfind(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
  return n;
}

void OnStart(void* user, const char* name, const char** /*attrs*/) {
  auto* st = static_cast<ParseState*>(user);
  if (!st->error.empty()) return;
  if (st->stack.size() >= kMaxXmlDepth) {
    st->error = StrCat("elements nested deeper than ", kMaxXmlDepth);
    XML_StopParser(st->parser, XML_FALSE);
    return;
  }
  if (st->stack.empty()) {
    if (st->has_root) {
      st->error = "more than one root element";
      XML_StopParser(st->parser, XML_FALSE);
      return;
    }
    st->has_root = true;
    st->root.name = std::string(LocalName(name));
    st->stack.push_back(&st->root);
    return;
  }
  XmlNode* parent = st->stack.back();
  parent->children.emplace_back();
  parent->children.back().name = std::string(LocalName(name));
  st->stack.push_back(&parent->children.back());
}

void OnEnd(void* user, const char* /*name*/) {
  auto* st = static_cast<ParseState*>(user);
  if (!st->stack.empty()) st->stack.pop_back();
}

void OnText(void* user, const char* s, int len) {
  auto* st = static_cast<ParseState*>(user);
  if (!st->stack.empty()) st->stack.back()->text.append(s, static_cast<size_t>(len));
}

// Rejects DTDs outright: object stores never send one, and entity
// declarations are the door to expansion attacks.
void OnDoctype(void* user, const char*, const char*, const char*, int) {
  auto* st = static_cast<ParseState*>(user);
  st->error = "a document type declaration is not accepted";
  XML_StopParser(st->parser, XML_FALSE);
}

}  // namespace

const XmlNode* XmlNode::Child(std::string_view n) const {
  for (const XmlNode& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::Children(std::string_view n) const {
  std::vector<const XmlNode*> out;
  for (const XmlNode& c : children)
    if (c.name == n) out.push_back(&c);
  return out;
}

std::string XmlNode::ChildText(std::string_view n) const {
  const XmlNode* c = Child(n);
  return c == nullptr ? std::string() : c->text;
}

absl::StatusOr<XmlNode> ParseXml(std::string_view xml) {
  if (xml.size() > kMaxXmlBytes) {
    return absl::InvalidArgumentError(
        StrCat("XML document of ", xml.size(), " bytes is too large"));
  }
  ParseState st;
  XML_Parser p = XML_ParserCreate("UTF-8");
  if (p == nullptr) return absl::ResourceExhaustedError("cannot create an XML parser");
  st.parser = p;
  XML_SetUserData(p, &st);
  XML_SetElementHandler(p, &OnStart, &OnEnd);
  XML_SetCharacterDataHandler(p, &OnText);
  XML_SetStartDoctypeDeclHandler(p, &OnDoctype);
  const XML_Status status = XML_Parse(p, xml.data(), static_cast<int>(xml.size()), XML_TRUE);
  std::string error;
  if (!st.error.empty()) {
    error = st.error;
  } else if (status != XML_STATUS_OK) {
    error =
        StrCat("line ", XML_GetCurrentLineNumber(p), ": ", XML_ErrorString(XML_GetErrorCode(p)));
  } else if (!st.has_root) {
    error = "no root element";
  }
  XML_ParserFree(p);
  if (!error.empty()) return absl::InvalidArgumentError(StrCat("malformed XML: ", error));
  return std::move(st.root);
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace timestore::tiering
