package i18n

// The account page's recovery codes and password setting, and the admin
// user page's second-factor reset.

var uiAccountEnglish = map[string]string{
	"ui.account.mfa_regen":           "Get new recovery codes",
	"ui.account.mfa_regen_note":      "New codes replace all the old ones, used or not. Give a current code from your authenticator app (not a recovery code), or your password.",
	"ui.account.mfa_regen_code":      "New codes with the app's code",
	"ui.account.mfa_regen_password":  "New codes with the password",
	"ui.field.totp_current":          "Code from the app",
	"ui.totp.regen_title":            "New recovery codes",
	"ui.totp.regen_note":             "Your earlier recovery codes no longer work.",
	"ui.account.password_set":        "Set a password",
	"ui.account.password_set_note":   "Your account has no password: you sign in through a provider. With a password you can also sign in with your username. Setting it signs out every other session.",
	"ui.account.password_set_submit": "Set password",
	"ui.admin.user.mfa":              "Two-step verification",
	"ui.admin.user.mfa_on":           "On since {date}; {n} recovery codes left.",
	"ui.admin.user.mfa_pending":      "Set-up started, not finished.",
	"ui.admin.user.mfa_off":          "Off.",
	"ui.admin.user.mfa_reset":        "Reset two-step verification",
	"ui.admin.user.mfa_reset_note":   "For a user who lost their authenticator and their recovery codes: removes their TOTP and recovery codes, so that they sign in with the password alone and may set it up again. Make sure it is really them first.",
	"ui.admin.user.mfa_self_note":    "Your own is managed on your account page.",
	"ui.admin.flash.mfa_reset":       "The user's two-step verification has been removed.",
	"ui.flash.password_set":          "Your password has been set. Every other session has been signed out.",

	// Re-authentication before a sensitive change.
	"ui.totp.password_hint": "Your password, to show it is you making this change.",
	"ui.reauth.recent_note": "For your safety this works only within 10 minutes of signing in: if it is refused, sign out and sign in again.",
}

var uiAccountKorean = map[string]string{
	"ui.account.mfa_regen":           "새 복구 코드 받기",
	"ui.account.mfa_regen_note":      "새 코드는 사용 여부와 관계없이 이전 코드를 모두 대체합니다. 인증 앱의 현재 코드(복구 코드 제외)나 비밀번호를 입력하세요.",
	"ui.account.mfa_regen_code":      "앱 코드로 새 코드 받기",
	"ui.account.mfa_regen_password":  "비밀번호로 새 코드 받기",
	"ui.field.totp_current":          "앱의 코드",
	"ui.totp.regen_title":            "새 복구 코드",
	"ui.totp.regen_note":             "이전 복구 코드는 더 이상 쓸 수 없습니다.",
	"ui.account.password_set":        "비밀번호 설정",
	"ui.account.password_set_note":   "계정에 비밀번호가 없습니다: 외부 제공자로 로그인합니다. 비밀번호를 설정하면 사용자 이름으로도 로그인할 수 있습니다. 설정하면 다른 모든 세션이 로그아웃됩니다.",
	"ui.account.password_set_submit": "비밀번호 설정",
	"ui.admin.user.mfa":              "2단계 인증",
	"ui.admin.user.mfa_on":           "{date}부터 켜져 있음, 남은 복구 코드 {n}개.",
	"ui.admin.user.mfa_pending":      "설정을 시작했지만 끝나지 않았습니다.",
	"ui.admin.user.mfa_off":          "꺼져 있습니다.",
	"ui.admin.user.mfa_reset":        "2단계 인증 초기화",
	"ui.admin.user.mfa_reset_note":   "인증 앱과 복구 코드를 모두 잃어버린 사용자용: TOTP와 복구 코드를 지워 비밀번호만으로 로그인하고 다시 설정할 수 있게 합니다. 먼저 본인인지 꼭 확인하세요.",
	"ui.admin.user.mfa_self_note":    "자신의 2단계 인증은 계정 페이지에서 관리합니다.",
	"ui.admin.flash.mfa_reset":       "사용자의 2단계 인증을 지웠습니다.",
	"ui.flash.password_set":          "비밀번호를 설정했습니다. 다른 모든 세션은 로그아웃되었습니다.",

	// Re-authentication before a sensitive change.
	"ui.totp.password_hint": "본인이 변경하는지 확인하기 위한 비밀번호입니다.",
	"ui.reauth.recent_note": "보안을 위해 로그인 후 10분 안에만 할 수 있습니다. 거부되면 로그아웃한 뒤 다시 로그인하세요.",
}
