#pragma once
// A minimal blocking HTTP client for tests (libcurl underneath).

#include <map>
#include <string>
#include <vector>

namespace calgate::test {

struct HttpResponse {
  long status = 0;           ///< 0 when no response arrived
  std::string body;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string error;         ///< transport error, if any
};

HttpResponse httpRequest(const std::string& method, const std::string& url,
                         const std::vector<std::string>& headers = {}, const std::string& body = {});

}  // namespace calgate::test
