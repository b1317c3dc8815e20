#include "image/registry.hpp"

#include "image/manifest.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <memory>

namespace smvm::image {

namespace {

struct response {
  long status = 0;
  std::string body;  // unless streamed elsewhere
  std::map<std::string, std::string> headers;  // names lowercased
};

using chunk_fn = std::function<bool(const char*, std::size_t)>;  // false stops the transfer

struct transfer {
  response* out;
  const chunk_fn* sink;
  const progress_fn* progress;
  std::string step;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) t->out->headers.clear();  // a new response after a redirect
  if (auto colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    t->out->headers[name] = value;
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * count;
  if (t->sink && *t->sink) return (*t->sink)(data, n) ? n : 0;
  if (t->out->body.size() + n > (16u << 20)) return 0;  // documents are small; refuse a flood
  t->out->body.append(data, n);
  return n;
}

int on_progress(void* user, curl_off_t total, curl_off_t done, curl_off_t, curl_off_t) {
  auto* t = static_cast<transfer*>(user);
  if (t->progress && *t->progress && t->sink) (*t->progress)(t->step, static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(total));
  return 0;
}

bool is_loopback(const std::string& host) {
  const std::string name = host.substr(0, host.rfind(':') == std::string::npos || host.front() == '[' ? host.size() : host.rfind(':'));
  return name == "localhost" || name.rfind("127.", 0) == 0 || name == "[::1]";
}

bool listed_insecure(const std::string& host) {
  const char* list = std::getenv("SMVM_INSECURE_REGISTRIES");
  if (!list) return false;
  std::string all = std::string(",") + list + ",";
  return all.find("," + host + ",") != std::string::npos;
}

class registry_client {
 public:
  registry_client(const reference& ref, const progress_fn& progress) : ref_(ref), progress_(progress) {
    scheme_ = is_loopback(ref.host()) || listed_insecure(ref.host()) ? "http" : "https";
  }

  result<response> get(const std::string& path, const std::vector<std::string>& accept, const chunk_fn& sink = {},
                       const std::string& step = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto r = fetch(scheme_ + "://" + ref_.host() + path, accept, sink, step);
      if (!r) return r;
      if (r->status != 401 || attempt == 1) return r;
      auto challenge = parse_bearer_challenge(r->headers["www-authenticate"]);
      if (challenge.empty()) return r;
      if (auto t = fetch_token(challenge); !t) return t.error();
    }
    return make_error("unreachable");
  }

 private:
  result<response> fetch(const std::string& url, const std::vector<std::string>& accept, const chunk_fn& sink,
                         const std::string& step) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    response out;
    transfer t{&out, &sink, &progress_, step};
    curl_slist* headers = nullptr;
    std::string accept_line = "Accept: ";
    for (std::size_t i = 0; i < accept.size(); ++i) accept_line += (i ? ", " : "") + accept[i];
    if (!accept.empty()) headers = curl_slist_append(headers, accept_line.c_str());
    if (!token_.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);  // stalled 60 s: give up rather than hang
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "smvm/" SMVM_VERSION);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
    char message[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, message);
    CURLcode rc = curl_easy_perform(curl.get());
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
    if (rc == CURLE_WRITE_ERROR && out.status == 200 && sink) return make_error("{}: writing the download failed", url);
    if (rc != CURLE_OK) return make_error("{}: {}", url, *message ? message : curl_easy_strerror(rc));
    return out;
  }

  result<void> fetch_token(std::map<std::string, std::string>& challenge) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    auto escape = [&](const std::string& s) {
      char* e = curl_easy_escape(curl.get(), s.c_str(), static_cast<int>(s.size()));
      std::string out = e ? e : "";
      curl_free(e);
      return out;
    };
    std::string url = challenge["realm"];
    if (url.rfind("http", 0) != 0) return make_error("{}: the registry's token realm \"{}\" is not a URL", ref_.host(), url);
    url += url.find('?') == std::string::npos ? "?" : "&";
    url += "service=" + escape(challenge["service"]);
    url += "&scope=" + escape(challenge.count("scope") ? challenge["scope"] : "repository:" + ref_.repository + ":pull");
    auto r = fetch(url, {}, {}, {});
    if (!r) return r.error();
    if (r->status != 200) return make_error("{}: the token service answered HTTP {}", url, r->status);
    try {
      auto j = nlohmann::json::parse(r->body);
      token_ = j.value("token", j.value("access_token", std::string{}));
    } catch (const nlohmann::json::exception& e) {
      return make_error("{}: the token is not JSON: {}", url, e.what());
    }
    if (token_.empty()) return make_error("{}: the token service gave no token", url);
    return {};
  }

  const reference& ref_;
  const progress_fn& progress_;
  std::string scheme_, token_;
};

std::string http_error(const reference& ref, const std::string& what, const response& r) {
  std::string detail;
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty())
      detail = ": " + j["errors"][0].value("message", std::string{});
  } catch (...) {
  }
  return fmt::format("{}: {}: HTTP {}{}", ref.name(), what, r.status, detail);
}

/// A manifest or index, checked against the digest that names it.
result<std::pair<std::string, std::string>> fetch_manifest(registry_client& client, store& images,
                                                           const reference& ref, const std::string& which) {
  auto r = client.get("/v2/" + ref.repository + "/manifests/" + which,
                      {media_type::oci_index, media_type::docker_list, media_type::oci_manifest, media_type::docker_manifest});
  if (!r) return r.error();
  if (r->status == 404) return make_error("{}: manifest {} not found in the registry", ref.name(), which);
  if (r->status != 200) return smvm::error{http_error(ref, "manifest " + which, *r)};
  const std::string digest = sha256_of(r->body);
  const std::string expected = is_sha256_digest(which) ? which : r->headers["docker-content-digest"];
  if (!expected.empty() && expected != digest)
    return make_error("{}: manifest {}: digest mismatch, its content is {}", ref.name(), expected, digest);
  auto writer = images.new_blob();
  if (!writer) return writer.error();
  if (auto w = writer->write({reinterpret_cast<const std::uint8_t*>(r->body.data()), r->body.size()}); !w) return w.error();
  if (auto c = writer->commit(digest); !c) return c.error();
  std::string type = r->headers["content-type"];
  type = type.substr(0, type.find(';'));
  if (!is_index_type(type) && !is_manifest_type(type)) type = declared_media_type(r->body);
  return std::pair{digest, type};
}

result<void> fetch_blob(registry_client& client, store& images, const reference& ref, const std::string& digest,
                        const std::string& role) {
  if (images.has_blob(digest)) return {};
  auto writer = images.new_blob();
  if (!writer) return writer.error();
  result<void> write_result;
  chunk_fn sink = [&](const char* data, std::size_t n) {
    write_result = writer->write({reinterpret_cast<const std::uint8_t*>(data), n});
    return static_cast<bool>(write_result);
  };
  auto r = client.get("/v2/" + ref.repository + "/blobs/" + digest, {}, sink, "pulling " + digest.substr(7, 12));
  if (!write_result) return write_result;
  if (!r) return r.error();
  if (r->status != 200) return smvm::error{http_error(ref, role + " " + digest, *r)};
  if (auto c = writer->commit(digest); !c) return make_error("{}: {} {}: {}", ref.name(), role, digest, c.error().message);
  return {};
}

}  // namespace

std::map<std::string, std::string> parse_bearer_challenge(const std::string& header) {
  std::map<std::string, std::string> out;
  if (header.size() < 7 || strncasecmp(header.c_str(), "Bearer ", 7) != 0) return out;
  std::size_t at = 7;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ',')) ++at;
    auto eq = header.find('=', at);
    if (eq == std::string::npos) break;
    std::string key = header.substr(at, eq - at);
    std::string value;
    at = eq + 1;
    if (at < header.size() && header[at] == '"') {
      auto close = header.find('"', at + 1);
      if (close == std::string::npos) break;
      value = header.substr(at + 1, close - at - 1);
      at = close + 1;
    } else {
      auto comma = header.find(',', at);
      value = header.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      at = comma == std::string::npos ? header.size() : comma;
    }
    out[key] = value;
  }
  return out;
}

namespace {

result<image_record> pull(store& images, const reference& ref, const progress_fn& progress) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return make_error("libcurl failed to start");
  registry_client client(ref, progress);
  auto fetched = fetch_manifest(client, images, ref, ref.manifest_ref());
  if (!fetched) return fetched.error();
  auto [digest, type] = *fetched;
  if (is_index_type(type)) {
    auto text = images.read_blob(digest);
    if (!text) return text.error();
    auto index = parse_index(*text, ref.name() + ": index " + digest);
    if (!index) return index.error();
    auto pick = pick_linux_amd64(*index, ref.name());
    if (!pick) return pick.error();
    auto m = fetch_manifest(client, images, ref, pick->digest);
    if (!m) return m.error();
    digest = m->first;
  }
  auto text = images.read_blob(digest);
  if (!text) return text.error();
  auto m = parse_manifest(*text, ref.name() + ": manifest " + digest);
  if (!m) return m.error();
  if (auto r = fetch_blob(client, images, ref, m->config.digest, "config"); !r) return r.error();
  auto config_text = images.read_blob(m->config.digest);
  if (!config_text) return config_text.error();
  if (auto c = parse_image_config(*config_text, ref.name() + ": config"); !c) return c.error();
  image_record record{ref.name(), digest, m->config.digest, {}, {}};
  for (const auto& layer : m->layers) {
    if (auto r = fetch_blob(client, images, ref, layer.digest, "layer"); !r) return r.error();
    record.layers.push_back({layer.digest, layer.media_type, layer.size});
  }
  return record;
}

}  // namespace

result<image_record> pull_from_registry(store& images, const reference& ref, const progress_fn& progress) {
  auto record = pull(images, ref, progress);
  if (!record && record.error().message.rfind(ref.name(), 0) != 0)
    return make_error("{}: {}", ref.name(), record.error().message);
  return record;
}

}  // namespace smvm::image
