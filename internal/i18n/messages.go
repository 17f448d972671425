package i18n

// The catalogs are plain maps: a few dozen short strings do not earn a message
// file format. Keys are gatehouse.Error codes or field-problem types.

var english = map[string]string{
	// Errors (gatehouse.Code*).
	"validation_error":       "Validation failed",
	"username_taken":         "Username already registered",
	"email_taken":            "Email already registered",
	"invalid_credentials":    "Incorrect username or password",
	"invalid_token":          "Could not validate credentials",
	"inactive_user":          "Inactive user",
	"not_found":              "Not Found",
	"method_not_allowed":     "Method Not Allowed",
	"payload_too_large":      "Request body too large (limit {limit} bytes)",
	"unsupported_media_type": "Unsupported Content-Type; send {want}",
	"not_authenticated":      "Not authenticated",
	"not_ready":              "Service not ready",
	"internal":               "Internal Server Error",

	// Field problems (FieldError.Type).
	"missing":                   "Field required",
	"json_invalid":              "JSON decode error",
	"string_type":               "Input should be a valid string",
	"extra_forbidden":           "Extra inputs are not permitted",
	"username_length":           "Username must be {min} to {max} characters long",
	"username_invalid":          "Username may contain only letters, digits, '.', '_' and '-'",
	"username_mixed_script":     "Username must not mix letters from different scripts",
	"username_disallowed":       "Username contains invisible, space or other disallowed characters",
	"email_invalid":             "value is not a valid email address",
	"password_too_short":        "Password must be at least {min} characters long",
	"password_too_long":         "Password must be at most {max} bytes long",
	"password_invalid":          "Password contains control characters or invalid UTF-8",
	"password_too_weak":         "Password is too easy to guess; use a longer passphrase",
	"password_matches_identity": "Password must not be the username or email",
	"grant_type_invalid":        "grant_type must be \"password\"",
}

var korean = map[string]string{
	"validation_error":       "입력값이 올바르지 않습니다",
	"username_taken":         "이미 사용 중인 사용자명입니다",
	"email_taken":            "이미 사용 중인 이메일입니다",
	"invalid_credentials":    "잘못된 사용자명 또는 비밀번호입니다",
	"invalid_token":          "인증 정보를 확인할 수 없습니다",
	"inactive_user":          "비활성화된 사용자입니다",
	"not_found":              "찾을 수 없습니다",
	"method_not_allowed":     "허용되지 않는 메서드입니다",
	"payload_too_large":      "요청 본문이 너무 큽니다 (최대 {limit}바이트)",
	"unsupported_media_type": "지원하지 않는 Content-Type입니다. {want} 형식으로 보내세요",
	"not_authenticated":      "인증이 필요합니다",
	"not_ready":              "서비스가 준비되지 않았습니다",
	"internal":               "서버 내부 오류입니다",

	"missing":                   "필수 항목입니다",
	"json_invalid":              "JSON 형식이 잘못되었습니다",
	"string_type":               "문자열이어야 합니다",
	"extra_forbidden":           "허용되지 않는 항목입니다",
	"username_length":           "사용자명은 {min}자 이상 {max}자 이하여야 합니다",
	"username_invalid":          "사용자명에는 문자, 숫자, '.', '_', '-'만 사용할 수 있습니다",
	"username_mixed_script":     "사용자명에 서로 다른 문자 체계를 섞어 쓸 수 없습니다",
	"username_disallowed":       "사용자명에 보이지 않는 문자, 공백 또는 허용되지 않는 문자가 있습니다",
	"email_invalid":             "올바른 이메일 주소가 아닙니다",
	"password_too_short":        "비밀번호는 {min}자 이상이어야 합니다",
	"password_too_long":         "비밀번호는 {max}바이트 이하여야 합니다",
	"password_invalid":          "비밀번호에 제어 문자나 잘못된 UTF-8이 있습니다",
	"password_too_weak":         "추측하기 쉬운 비밀번호입니다. 더 긴 문구를 사용하세요",
	"password_matches_identity": "비밀번호는 사용자명이나 이메일과 같을 수 없습니다",
	"grant_type_invalid":        "grant_type은 \"password\"여야 합니다",
}
