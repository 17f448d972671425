package i18n

// The hosted pages' texts of sign-in through providers and of the account
// page's linked sign-in methods.

var uiProvidersEnglish = map[string]string{
	"ui.oauth.or":                  "Or sign in with another account",
	"ui.oauth.signin_with":         "Sign in with {provider}",
	"ui.oauth.error_title":         "Sign-in did not complete",
	"ui.oauth.link_hint":           "To use {provider} with that account, sign in to it as usual (with its password), then link {provider} on your account page under “Linked sign-in methods”.",
	"ui.oauth.try_again":           "Back to sign-in",
	"ui.oauth.back_account":        "Back to your account",
	"ui.account.identities":        "Linked sign-in methods",
	"ui.account.identities_note":   "Accounts at other services you can sign in with.",
	"ui.account.identities_none":   "None linked.",
	"ui.account.identity_provider": "Provider",
	"ui.account.identity_linked":   "Linked",
	"ui.account.unlink":            "Unlink",
	"ui.account.unlink_label":      "Unlink {provider}",
	"ui.account.link":              "Link {provider}",
	"ui.flash.identity_linked":     "The sign-in method has been linked.",
	"ui.flash.identity_unlinked":   "The sign-in method has been unlinked.",
}

var uiProvidersKorean = map[string]string{
	"ui.oauth.or":                  "다른 계정으로 로그인",
	"ui.oauth.signin_with":         "{provider}(으)로 로그인",
	"ui.oauth.error_title":         "로그인을 완료하지 못했습니다",
	"ui.oauth.link_hint":           "그 계정에서 {provider}을(를) 쓰려면 평소처럼(비밀번호로) 로그인한 뒤, 내 계정 페이지의 “연결된 로그인 수단”에서 {provider}을(를) 연결하세요.",
	"ui.oauth.try_again":           "로그인으로 돌아가기",
	"ui.oauth.back_account":        "내 계정으로 돌아가기",
	"ui.account.identities":        "연결된 로그인 수단",
	"ui.account.identities_note":   "로그인에 쓸 수 있는 다른 서비스의 계정입니다.",
	"ui.account.identities_none":   "연결된 수단이 없습니다.",
	"ui.account.identity_provider": "제공자",
	"ui.account.identity_linked":   "연결한 날",
	"ui.account.unlink":            "연결 해제",
	"ui.account.unlink_label":      "{provider} 연결 해제",
	"ui.account.link":              "{provider} 연결",
	"ui.flash.identity_linked":     "로그인 수단을 연결했습니다.",
	"ui.flash.identity_unlinked":   "로그인 수단의 연결을 해제했습니다.",
}
